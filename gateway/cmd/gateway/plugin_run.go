package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgw/gateway/gateway/config"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/wasmhost"
	"github.com/eventgw/gateway/sdk/abi"
)

// runKVBytes is the KV quota of `plugin run`, the server's default.
const runKVBytes = 16 << 20

// runEvent is the event file of `plugin run`.
type runEvent struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Source string          `json:"source"`
	Time   string          `json:"time"`
	Data   json.RawMessage `json:"data"`
}

type runOptions struct {
	event     string
	config    []string
	kind      string
	webhookID string
	json      bool
	timeout   time.Duration
}

func newPluginRun(stdout io.Writer) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run FILE.wasm --event event.json",
		Short: "Run a plugin once on one event, under the server's host and limits",
		Long: `Run loads FILE.wasm under the same host and default limits as the server,
with its KV store in memory, calls it once on the event and prints the
verdict (filters), the action and output (transforms), the reason, the
plugin's log lines and the time taken. --timeout sets the call deadline, as
a plugin's limits.timeout does in gateway.yaml.

The event file is JSON: {"type": "...", "data": {...}, "id": "...", "source": "..."};
"-" reads it from stdin. id and time are filled in when missing.

--json prints the same as one JSON object, for tests and scripts (the
tests plugin new writes for C and AssemblyScript read it):

  {"plugin": FILE, "kind": "filter", "size": BYTES, "sha256": HEX,
   "event": {"id": ..., "type": ...},
   "verdict": "allow|flag|deny", "reason": ...,          (filters)
   "action": "unchanged|replaced|drop", "output": JSON,   (transforms)
   "error": "...",                                        (the call failed)
   "logs": [{"level": "INFO", "msg": ..., ATTRS...}], "metrics": {NAME: N},
   "load_time": "1.2s", "call_time": "40µs"}

A call that fails still prints the object (with "error") and exits 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginRun(cmd.Context(), cmd.InOrStdin(), stdout, args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.event, "event", "", `event JSON file, or "-" for stdin (required)`)
	cmd.Flags().StringArrayVar(&o.config, "config", nil, "plugin config entry key=value (repeatable)")
	cmd.Flags().StringVar(&o.kind, "kind", "", "filter, transform or observer (default: from the module's exports)")
	cmd.Flags().StringVar(&o.webhookID, "webhook-id", "", "webhook id a transform sees (per-webhook transforms)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as one JSON object")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "call deadline, as limits.timeout (default: the server's, 50ms for filters and transforms, 250ms for observers)")
	_ = cmd.MarkFlagRequired("event")
	return cmd
}

// runReport is what `plugin run` found, printed as text or, with --json, as
// JSON.
type runReport struct {
	Plugin   string            `json:"plugin"`
	Kind     abi.Kind          `json:"kind"`
	Size     int               `json:"size"`
	SHA256   string            `json:"sha256"`
	Event    runReportEvent    `json:"event"`
	Verdict  string            `json:"verdict,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Action   string            `json:"action,omitempty"`
	Output   json.RawMessage   `json:"output,omitempty"`
	Error    string            `json:"error,omitempty"`
	Logs     []json.RawMessage `json:"logs"` // with --json: slog's JSON records
	Metrics  map[string]int64  `json:"metrics"`
	LoadTime string            `json:"load_time"`
	CallTime string            `json:"call_time"`

	lines []string // the log records, one line each
}

type runReportEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

func pluginRun(ctx context.Context, stdin io.Reader, stdout io.Writer, file string, o runOptions) error {
	kind, err := parseKind(o.kind)
	if err != nil {
		return err
	}
	if o.timeout < 0 || o.timeout > config.MaxPluginTimeout {
		return fmt.Errorf("--timeout %s: must be at most %s, as limits.timeout", o.timeout, config.MaxPluginTimeout)
	}
	cfg, err := parseConfigPairs(o.config)
	if err != nil {
		return err
	}
	wasm, err := readWasm(file)
	if err != nil {
		return err
	}
	meta, data, err := readEvent(stdin, o.event)
	if err != nil {
		return err
	}
	meta.WebhookID = o.webhookID

	st, err := store.Open(store.Options{Memory: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("plugin run: open the in-memory store: %w", err)
	}
	defer st.Close()
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	kv, err := st.PluginKV(name, runKVBytes)
	if err != nil {
		return fmt.Errorf("plugin run: %w", err)
	}
	var logs bytes.Buffer
	opts := &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == "plugin") {
				return slog.Attr{} // one plugin, one run: noise
			}
			return a
		},
	}
	logger := slog.New(slog.NewTextHandler(&logs, opts))
	if o.json {
		logger = slog.New(slog.NewJSONHandler(&logs, opts))
	}
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("plugin run: %w", err)
	}
	defer rt.Close(context.WithoutCancel(ctx))

	start := time.Now()
	p, err := rt.Load(ctx, wasmhost.Spec{Name: name, Wasm: wasm, Kind: kind, Config: cfg, KV: kv, Logger: logger,
		Limits: wasmhost.Limits{CallTimeout: o.timeout}})
	if err != nil {
		return fmt.Errorf("plugin run: %w", err)
	}
	r := runReport{
		Plugin: file, Kind: p.Kind(), Size: len(wasm), SHA256: p.Hash(),
		Event:    runReportEvent{ID: meta.ID, Type: meta.Type},
		LoadTime: round(time.Since(start)).String(),
	}

	start = time.Now()
	var callErr error
	switch p.Kind() {
	case abi.KindFilter:
		var res wasmhost.FilterResult
		if res, callErr = p.Filter(ctx, meta, data); callErr == nil {
			r.Verdict, r.Reason = res.Verdict.String(), res.Reason
		}
	case abi.KindTransform:
		var res wasmhost.TransformResult
		if res, callErr = p.Transform(ctx, meta, data); callErr == nil {
			r.Action = res.Action.String()
			if res.Action == wasmhost.Replaced {
				r.Output = res.Output
			}
		}
	case abi.KindObserver:
		callErr = p.Observe(ctx, meta, data)
	}
	r.CallTime = round(time.Since(start)).String()
	if callErr != nil {
		r.Error = callErr.Error()
	}
	r.Metrics = p.Metrics()
	for line := range strings.Lines(logs.String()) {
		if line = strings.TrimSpace(line); line != "" {
			r.lines = append(r.lines, line)
		}
	}
	if o.json {
		r.Logs = make([]json.RawMessage, len(r.lines))
		for i, line := range r.lines {
			r.Logs[i] = json.RawMessage(line)
		}
		if r.Output != nil && !json.Valid(r.Output) {
			r.Output, _ = json.Marshal(string(r.Output)) // the host checks; never trust a guest's bytes into JSON
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("plugin run: %w", err)
		}
	} else {
		r.writeText(stdout)
	}
	if callErr != nil {
		return fmt.Errorf("plugin run: %w", callErr)
	}
	return nil
}

// writeText prints the report for a person.
func (r *runReport) writeText(w io.Writer) {
	fmt.Fprintf(w, "plugin:  %s (%s, %d bytes, sha256 %s)\n", r.Plugin, r.Kind, r.Size, r.SHA256)
	fmt.Fprintf(w, "event:   %s %s\n", r.Event.Type, r.Event.ID)
	switch {
	case r.Error != "":
	case r.Verdict != "":
		fmt.Fprintf(w, "verdict: %s\n", r.Verdict)
		if r.Reason != "" {
			fmt.Fprintf(w, "reason:  %s\n", r.Reason)
		}
	case r.Action != "":
		fmt.Fprintf(w, "action:  %s\n", r.Action)
		if r.Output != nil {
			fmt.Fprintf(w, "output:  %s\n", r.Output)
		}
	default:
		fmt.Fprintln(w, "result:  ok")
	}
	if len(r.lines) == 0 {
		fmt.Fprintln(w, "logs:    (none)")
	} else {
		fmt.Fprintln(w, "logs:")
		for _, line := range r.lines {
			fmt.Fprintln(w, "  "+line)
		}
	}
	if len(r.Metrics) > 0 {
		names := slices.Sorted(maps.Keys(r.Metrics))
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s=%d", n, r.Metrics[n])
		}
		fmt.Fprintf(w, "metrics: %s\n", strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "time:    load %s (compile and first instance), call %s\n", r.LoadTime, r.CallTime)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}

func parseKind(s string) (abi.Kind, error) {
	switch k := abi.Kind(s); k {
	case "", abi.KindFilter, abi.KindTransform, abi.KindObserver:
		return k, nil
	}
	return "", fmt.Errorf("--kind %q: want filter, transform or observer", s)
}

func parseConfigPairs(pairs []string) (map[string]string, error) {
	cfg := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--config %q: want key=value", kv)
		}
		cfg[k] = v
	}
	return cfg, nil
}

// wasmMagic starts every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

func readWasm(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("plugin run: no such file: %s", file)
	}
	if err != nil {
		return nil, fmt.Errorf("plugin run: %w", err)
	}
	if !bytes.HasPrefix(b, wasmMagic) {
		hint := ""
		if bytes.Contains(b[:min(len(b), 4096)], []byte("(module")) {
			hint = " (it looks like WAT text: compile it with wat2wasm)"
		}
		return nil, fmt.Errorf("plugin run: %s is not a WebAssembly module: no \\0asm header%s", file, hint)
	}
	return b, nil
}

// readEvent reads and checks the event file ("-" is stdin).
func readEvent(stdin io.Reader, file string) (abi.Meta, []byte, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(stdin)
		file = "stdin"
	} else {
		b, err = os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			return abi.Meta{}, nil, fmt.Errorf("plugin run: no such event file: %s", file)
		}
	}
	if err != nil {
		return abi.Meta{}, nil, fmt.Errorf("plugin run: read event: %w", err)
	}
	var ev runEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return abi.Meta{}, nil, fmt.Errorf("plugin run: event %s: bad JSON: %w (want {\"type\": ..., \"data\": ...})", file, err)
	}
	var problems []string
	if ev.Type == "" {
		problems = append(problems, `"type" is missing`)
	}
	if len(ev.Data) == 0 || string(ev.Data) == "null" {
		problems = append(problems, `"data" is missing`)
	}
	if ev.Time != "" {
		if _, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil {
			problems = append(problems, `"time" is not RFC 3339`)
		}
	}
	if len(problems) > 0 {
		return abi.Meta{}, nil, fmt.Errorf("plugin run: event %s: %s", file, strings.Join(problems, "; "))
	}
	if ev.ID == "" {
		ev.ID = "evt_plugin_run"
	}
	if ev.Time == "" {
		ev.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
	return abi.Meta{ID: ev.ID, Type: ev.Type, Source: ev.Source, Time: ev.Time}, ev.Data, nil
}

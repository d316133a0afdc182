package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/eventgw/gateway/gateway"
	assdk "github.com/eventgw/gateway/sdk/assemblyscript"
)

// gatewayModule is the module the generated plugins require.
const gatewayModule = "github.com/eventgw/gateway"

// zeroVersion is required when the gateway binary knows no release version
// of itself (a development build); it resolves only through a replace.
const zeroVersion = "v0.0.0-00010101000000-000000000000"

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

type newOptions struct {
	lang, kind, dir, module, replace string
}

func newPluginNew(stdout io.Writer) *cobra.Command {
	var o newOptions
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Write a ready plugin project: source, a test, a README and a go.mod",
		Long: `New writes DIR/NAME, a project whose tests pass at once, with a README giving
the commands that test, build and run it:

  --lang go              main.go registering a handler of the kind, and
                         main_test.go testing it natively with sdk/sdktest
  --lang c               src/NAME.c and a copy of gw.h, and plugin_test.go
  --lang assemblyscript  assembly/index.ts, a copy of the SDK (eventgw-sdk/),
                         package.json, asconfig.json, and plugin_test.go

The C and AssemblyScript tests are Go tests too: they build the module as
plugin build does and run it under the real host with gateway/plugintest.

The go.mod requires github.com/eventgw/gateway. Inside the gateway's own
module (like the first-party plugins in plugins/) no go.mod is written: the
project shares the repository's. --replace points the go.mod at a local
checkout of the gateway, for a development build of it or offline work.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginNew(cmd.Context(), stdout, args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.lang, "lang", "go", "language: go, c or assemblyscript")
	cmd.Flags().StringVar(&o.kind, "kind", "filter", "filter, transform or observer")
	cmd.Flags().StringVar(&o.dir, "dir", ".", "directory to create the project in")
	cmd.Flags().StringVar(&o.module, "module", "", "module path of the go.mod (default NAME)")
	cmd.Flags().StringVar(&o.replace, "replace", "", "directory of a gateway checkout to replace "+gatewayModule+" with")
	return cmd
}

func pluginNew(ctx context.Context, stdout io.Writer, name string, o newOptions) error {
	kind, err := parseKind(o.kind)
	if err != nil || kind == "" {
		return fmt.Errorf("plugin new: --kind %q: want filter, transform or observer", o.kind)
	}
	if !pluginName.MatchString(name) {
		return fmt.Errorf("plugin new: name %q: want lower-case letters, digits, - and _, starting with a letter", name)
	}
	dir, err := filepath.Abs(filepath.Join(o.dir, name))
	if err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("plugin new: %s exists and is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("plugin new: %w", err)
	}

	files, err := scaffold(o.lang, kind)
	if err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	data := scaffoldData{Name: name, Kind: kind, Lang: o.lang, ASCVersion: ascVersion()}
	if mod, err := enclosingModule(dir); err != nil {
		return fmt.Errorf("plugin new: %w", err)
	} else if mod != gatewayModule {
		data.Module = o.module
		if data.Module == "" {
			data.Module = name
		}
		data.Require = gateway.Version()
		if !strings.HasPrefix(data.Require, "v") {
			data.Require = zeroVersion
		}
		if o.replace != "" {
			if data.Replace, err = filepath.Abs(o.replace); err != nil {
				return fmt.Errorf("plugin new: %w", err)
			}
		}
		files = append(files, scaffoldFile{name: "go.mod", text: goModTmpl})
	} else if o.replace != "" || o.module != "" {
		return fmt.Errorf("plugin new: %s is inside the gateway's module, which the project shares: --module and --replace do not apply", dir)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	for _, f := range files {
		name, body := execTemplate(f.name, data), []byte(f.text)
		if !f.raw {
			body = []byte(execTemplate(f.text, data))
		}
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("plugin new: %w", err)
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return fmt.Errorf("plugin new: %w", err)
		}
		fmt.Fprintln(stdout, path)
	}
	switch {
	case data.Module != "" && data.Replace == "" && data.Require == zeroVersion:
		fmt.Fprintf(stdout, "\nnote: this gateway is a development build, so go.mod requires %s %s,\n"+
			"which resolves only through a replace: rerun with --replace <checkout>, or set a release version.\n", gatewayModule, zeroVersion)
	case data.Module != "":
		// The test's imports need go.sum entries before go test runs.
		if err := goModTidy(ctx, dir); err != nil {
			fmt.Fprintf(stdout, "\nnote: go mod tidy failed, run it in %s before go test: %v\n", dir, err)
		}
	}
	fmt.Fprintf(stdout, "\ntest:  cd %s && go test .\nbuild: gateway plugin build %s\n", dir, dir)
	return nil
}

// goModTidy runs go mod tidy in dir, which writes go.sum.
func goModTidy(ctx context.Context, dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goBin, "mod", "tidy")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// execTemplate runs the template text on data; the templates are constants,
// so an error is a bug.
func execTemplate(text string, data scaffoldData) string {
	var buf bytes.Buffer
	if err := template.Must(template.New("").Parse(text)).Execute(&buf, data); err != nil {
		panic(fmt.Sprintf("plugin new: template: %v", err))
	}
	return buf.String()
}

// ascVersion is the assemblyscript compiler the AssemblyScript SDK pins
// (its package.json), which new projects pin too.
func ascVersion() string {
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := fs.ReadFile(assdk.Files(), "package.json")
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if v := pkg.DevDependencies["assemblyscript"]; err == nil && v != "" {
		return v
	}
	panic(fmt.Sprintf("sdk/assemblyscript/package.json pins no assemblyscript version: %v", err))
}

// enclosingModule returns the module path of the go.mod nearest above dir
// (dir need not exist), or "" if there is none.
func enclosingModule(dir string) (string, error) {
	for d := dir; ; {
		f, err := os.Open(filepath.Join(d, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok {
					return strings.Trim(strings.TrimSpace(rest), `"`), nil
				}
			}
			return "", sc.Err()
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}

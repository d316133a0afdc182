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
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/eventgw/gateway/sdk"
	assdk "github.com/eventgw/gateway/sdk/assemblyscript"
)

// gatewayModule is the gateway's module: a project created inside it
// shares its go.mod.
const gatewayModule = "github.com/eventgw/gateway"

// sdkModule is the Go SDK's module, the only one a generated go.mod
// requires (Go projects only).
const sdkModule = "github.com/eventgw/gateway/sdk"

// sdkCopyDir is where a development build copies the SDK module into a new
// Go project.
const sdkCopyDir = "gateway-sdk"

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

The C and AssemblyScript tests are Go tests too: they build the module with
the gateway binary on PATH (gateway plugin build) and run it under the real
host (gateway plugin run --json), so their go.mod requires nothing.

A Go project's go.mod requires only the SDK module, github.com/eventgw/gateway/sdk:
at this binary's own SDK version when it is a release build; a development
build has no version to require, so it copies the SDK it was built with
into NAME/` + sdkCopyDir + `/ and points a replace directive at the copy, which
works offline. --replace CHECKOUT points the replace at CHECKOUT/sdk
instead, for contributors working on the SDK. Inside the gateway's own
module (like the first-party plugins in plugins/) no go.mod is written: the
project shares the repository's.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return pluginNew(cmd.Context(), stdout, args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.lang, "lang", "go", "language: go, c or assemblyscript")
	cmd.Flags().StringVar(&o.kind, "kind", "filter", "filter, transform or observer")
	cmd.Flags().StringVar(&o.dir, "dir", ".", "directory to create the project in")
	cmd.Flags().StringVar(&o.module, "module", "", "module path of the go.mod (default NAME)")
	cmd.Flags().StringVar(&o.replace, "replace", "", "directory of a gateway checkout whose sdk/ to replace "+sdkModule+" with (Go only)")
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
	data := scaffoldData{Name: name, Kind: kind, Lang: o.lang, ASCVersion: ascVersion(), SDKModule: sdkModule}
	if own, err := goMod(&data, dir, name, o); err != nil {
		return fmt.Errorf("plugin new: %w", err)
	} else if own {
		files = append(files, scaffoldFile{name: "go.mod", text: goModTmpl})
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
	if data.SDKCopy != "" {
		copyDir := filepath.Join(dir, data.SDKCopy)
		if err := os.CopyFS(copyDir, sdk.ModuleFiles()); err != nil {
			return fmt.Errorf("plugin new: copy the SDK: %w", err)
		}
		fmt.Fprintln(stdout, copyDir+string(filepath.Separator))
	}
	if data.Require != "" {
		// go.sum, for the test's imports (empty when the SDK is replaced: it
		// needs nothing but the standard library).
		if err := goModTidy(ctx, dir); err != nil {
			fmt.Fprintf(stdout, "\nnote: go mod tidy failed, run it in %s before go test: %v\n", dir, err)
		}
	}
	fmt.Fprintf(stdout, "\ntest:  cd %s && go test .\nbuild: gateway plugin build %s\n", dir, dir)
	return nil
}

// goMod decides the go.mod of a project in dir and fills data's fields for
// it. It reports false when the project gets none: inside the gateway's
// module, whose go.mod it shares. A C or AssemblyScript project's go.mod
// (its tests are Go) requires nothing; a Go project's requires the SDK
// module: the released version this binary was built with, or, in a
// development build, a copy of the SDK written into the project (or the
// checkout's sdk/ with --replace) through a replace directive.
func goMod(data *scaffoldData, dir, name string, o newOptions) (bool, error) {
	mod, err := enclosingModule(dir)
	if err != nil {
		return false, err
	}
	if mod == gatewayModule {
		if o.replace != "" || o.module != "" {
			return false, fmt.Errorf("%s is inside the gateway's module, which the project shares: --module and --replace do not apply", dir)
		}
		return false, nil
	}
	data.Module = o.module
	if data.Module == "" {
		data.Module = name
	}
	switch {
	case o.lang != "go" && o.replace != "":
		return false, fmt.Errorf("--replace applies to Go projects only: a %s project's go.mod requires nothing", o.lang)
	case o.lang != "go":
	case o.replace != "":
		if data.Replace, err = checkoutSDK(o.replace); err != nil {
			return false, fmt.Errorf("--replace %s: %w", o.replace, err)
		}
		data.Require = devVersion
	default:
		if data.Require = releasedSDK(); data.Require == "" {
			data.Require, data.Replace, data.SDKCopy = devVersion, "./"+sdkCopyDir, sdkCopyDir
		}
	}
	return true, nil
}

// devVersion is the SDK version a go.mod requires when a replace
// directive provides the module: the zero pseudo-version, which no proxy
// serves, so the replace is the only way it resolves.
const devVersion = "v0.0.0-00010101000000-000000000000"

// releasedSDK returns the version of the SDK module this binary was built
// with, when a go.mod can require it: a version the module system resolved
// (a release build, such as go install .../gateway/cmd/gateway@v1.2.3), not
// a replace (a build in a checkout, whose go.mod replaces the SDK with
// ./sdk). It returns "" for a development build.
func releasedSDK() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return sdkVersion(info)
}

// sdkVersion is releasedSDK for the build info.
func sdkVersion(info *debug.BuildInfo) string {
	for _, dep := range info.Deps {
		if dep.Path == sdkModule && dep.Replace == nil && strings.HasPrefix(dep.Version, "v") {
			return dep.Version
		}
	}
	return ""
}

// checkoutSDK returns the absolute directory of the SDK module in the
// gateway checkout dir, checking that it is one.
func checkoutSDK(dir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dir, "sdk"))
	if err != nil {
		return "", err
	}
	mod, err := enclosingModule(abs)
	if err != nil {
		return "", err
	}
	if mod != sdkModule {
		return "", fmt.Errorf("%s is not the SDK module %s: want the directory of a gateway checkout", abs, sdkModule)
	}
	return abs, nil
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

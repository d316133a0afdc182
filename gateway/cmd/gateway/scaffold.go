package main

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/eventgw/gateway/sdk/abi"
	assdk "github.com/eventgw/gateway/sdk/assemblyscript"
	csdk "github.com/eventgw/gateway/sdk/c"
)

// scaffoldFile is one file `plugin new` writes: a text/template run on
// scaffoldData, or, when raw, bytes copied as they are (the vendored SDK
// files of C and AssemblyScript projects).
type scaffoldFile struct {
	name, text string
	raw        bool
}

// scaffoldData fills the templates.
type scaffoldData struct {
	Name   string
	Kind   abi.Kind
	Lang   string // go, c or assemblyscript
	Module string // module path of the go.mod written, "" when none
	// SDKModule is the Go SDK's module path. A Go project's go.mod
	// requires it at Require, through a replace to Replace when set; a C
	// or AssemblyScript project's requires nothing (Require is "").
	SDKModule string
	Require   string
	Replace   string
	// SDKCopy is the project's directory holding a copy of the SDK
	// module (a development build), "" when none.
	SDKCopy string
	// ASCVersion is the assemblyscript compiler an AssemblyScript project
	// pins: the SDK's own.
	ASCVersion string
}

// scaffold returns the files of a project in lang of kind k: README.md, the
// source, and its test. Every language's test runs with go test: a Go
// project's natively with sdk/sdktest, a C or AssemblyScript project's by
// building the module and running it under the real host with
// gateway/plugintest.
func scaffold(lang string, k abi.Kind) ([]scaffoldFile, error) {
	files := []scaffoldFile{{name: "README.md", text: readmeTmpl}}
	switch lang {
	case "go":
		src := map[abi.Kind][2]string{
			abi.KindFilter:    {filterMain, filterTest},
			abi.KindTransform: {transformMain, transformTest},
			abi.KindObserver:  {observerMain, observerTest},
		}[k]
		return append(files, scaffoldFile{name: "main.go", text: src[0]}, scaffoldFile{name: "main_test.go", text: src[1]}), nil
	case "c":
		src := map[abi.Kind]string{abi.KindFilter: cFilter, abi.KindTransform: cTransform, abi.KindObserver: cObserver}[k]
		files = append(files,
			scaffoldFile{name: "src/{{.Name}}.c", text: src},
			scaffoldFile{name: "src/" + csdk.HeaderName, text: string(csdk.Header()), raw: true},
			scaffoldFile{name: "plugin_test.go", text: hostTest})
		return files, nil
	case "assemblyscript":
		src := map[abi.Kind]string{abi.KindFilter: asFilter, abi.KindTransform: asTransform, abi.KindObserver: asObserver}[k]
		files = append(files,
			scaffoldFile{name: "assembly/index.ts", text: src},
			scaffoldFile{name: "assembly/tsconfig.json", text: asTSConfig, raw: true},
			scaffoldFile{name: "package.json", text: asPackageJSON},
			scaffoldFile{name: "asconfig.json", text: asConfigJSON, raw: true},
			scaffoldFile{name: ".gitignore", text: "node_modules/\n*.wasm\n", raw: true},
			scaffoldFile{name: "plugin_test.go", text: hostTest})
		sdkFiles, err := fs.ReadDir(assdk.Files(), ".")
		if err != nil {
			return nil, err
		}
		for _, f := range sdkFiles {
			b, err := fs.ReadFile(assdk.Files(), f.Name())
			if err != nil {
				return nil, err
			}
			files = append(files, scaffoldFile{name: path.Join(assdk.PackageName, f.Name()), text: string(b), raw: true})
		}
		return files, nil
	}
	return nil, fmt.Errorf("--lang %q: want go, c or assemblyscript", lang)
}

const goModTmpl = `module {{.Module}}

go 1.26
{{- if .Require}}

require {{.SDKModule}} {{.Require}}
{{- end}}
{{- if .Replace}}

{{if .SDKCopy}}// {{.SDKCopy}}/ is a copy of the SDK the gateway that wrote this project was
// built with: a development build, which has no released SDK to require.
{{end}}replace {{.SDKModule}} => {{.Replace}}
{{- end}}
`

const readmeTmpl = `# {{.Name}}

A gateway {{.Kind}} plugin, written in
{{- if eq .Lang "go"}} Go with the gateway's SDK (github.com/eventgw/gateway/sdk).
{{- else if eq .Lang "c"}} C with the gateway's single-header SDK (` + "`src/gw.h`" + `).
{{- else}} AssemblyScript with the gateway's SDK (` + "`eventgw-sdk/`" + `, a copy of
` + "`sdk/assemblyscript`" + `).
{{- end}}
{{- if eq .Kind "filter"}} It denies an event whose ` + "`data.amount`" + ` is over the
` + "`max_amount`" + ` config value.
{{- else if eq .Kind "transform"}} It adds a ` + "`tagged_by`" + ` field (config ` + "`tag`" + `,
default ` + "`{{.Name}}`" + `) to the event's data.
{{- else}} It logs one line per event and counts events in the ` + "`events`" + ` metric.
{{- end}}

| File | What it is |
|---|---|
{{- if eq .Lang "go"}}
| ` + "`main.go`" + ` | the plugin |
| ` + "`main_test.go`" + ` | its tests, run natively with ` + "`sdk/sdktest`" + ` (a fake host with config, KV, logs and metrics) |
{{- if .SDKCopy}}
| ` + "`{{.SDKCopy}}/`" + ` | a copy of the gateway's Go SDK (` + "`{{.SDKModule}}`" + `), which go.mod's replace points at |
{{- end}}
{{- else if eq .Lang "c"}}
| ` + "`src/{{.Name}}.c`" + ` | the plugin |
| ` + "`src/gw.h`" + ` | the C SDK, one header |
| ` + "`plugin_test.go`" + ` | its tests: they build the module and run it under the gateway's real host with the gateway binary |
{{- else}}
| ` + "`assembly/index.ts`" + ` | the plugin |
| ` + "`eventgw-sdk/`" + ` | the AssemblyScript SDK, installed into ` + "`node_modules`" + ` by a ` + "`file:`" + ` dependency |
| ` + "`package.json`" + `, ` + "`asconfig.json`" + ` | the compiler (assemblyscript {{.ASCVersion}}) and its flags, which extend the SDK's |
| ` + "`plugin_test.go`" + ` | its tests: they build the module and run it under the gateway's real host with the gateway binary |
{{- end}}
{{- if .Module}}
| ` + "`go.mod`" + ` | the module the tests build in |
{{- end}}

## Test

` + "```sh" + `
go test .
` + "```" + `
{{- if ne .Lang "go"}}

The tests need Go, the ` + "`gateway`" + ` binary on PATH (they run ` + "`gateway plugin build`" + `
and ` + "`gateway plugin run --json`" + `, the server's host and limits) and
{{- if eq .Lang "c"}} the C toolchain (Debian: ` + "`apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`" + `).
{{- else}} Node.js and npm; the first build runs ` + "`npm install`" + `, which writes
` + "`package-lock.json`" + ` (commit it).
{{- end}}
{{- end}}

## Build

` + "```sh" + `
gateway plugin build . -o {{.Name}}.wasm
{{- if eq .Lang "go"}}
# or, without the gateway binary:
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o {{.Name}}.wasm .
{{- else if eq .Lang "c"}}
# or, without the gateway binary:
clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -I src -o {{.Name}}.wasm src/*.c
{{- else}}
# or, without the gateway binary:
npm install && npm run build
{{- end}}
` + "```" + `

## Try it under the real host

` + "```sh" + `
echo '{"type": "payment.created", "data": {"amount": 250}}' > event.json
gateway plugin run {{.Name}}.wasm --event event.json
{{- if eq .Kind "filter"}} --config max_amount=100{{end}}
{{- if eq .Kind "transform"}} --config tag=billing{{end}}
` + "```" + `

## Use it

` + "```yaml" + `
plugins:
  - name: {{.Name}}
    path: {{.Name}}.wasm      # or source: <this directory>, built by the gateway
    kind: {{.Kind}}
{{- if ne .Kind "transform"}}
    event_types: ["payment.>"]
{{- end}}
{{- if eq .Kind "filter"}}
    config:
      max_amount: "100"
{{- else if eq .Kind "transform"}}
    config:
      tag: billing
{{- end}}
` + "```" + `
{{- if eq .Kind "transform"}}

A transform without ` + "`event_types`" + ` runs for the webhooks that name it in
their ` + "`transform`" + ` field.
{{- end}}
{{- if .Module}}

## go.mod

The project is its own Go module, ` + "`{{.Module}}`" + `.
{{- if ne .Lang "go"}} It is there for the tests,
which are Go, and requires nothing: they run the gateway binary.
{{- else}} It requires only the gateway's
Go SDK module, ` + "`{{.SDKModule}}`" + `, which needs nothing but the
standard library.
{{- if .SDKCopy}} The gateway that wrote it is a development build,
which has no released SDK version to require, so ` + "`{{.SDKCopy}}/`" + ` holds a
copy of the SDK it was built with and a replace directive points at it;
this works offline. With a release of the gateway, require its version
instead (` + "`go get {{.SDKModule}}@vX.Y.Z`" + `) and delete the replace and
the copy.
{{- else if .Replace}} A replace directive points it at the SDK in
` + "`{{.Replace}}`" + `.
{{- else}} It requires version ` + "`{{.Require}}`" + `, the one this gateway
was built with.
{{- end}}
{{- end}}
{{- else}}

## go.mod

There is none: the project was created inside the gateway's own module,
whose go.mod it shares, like the first-party plugins in ` + "`plugins/`" + `.
{{- end}}
`

//go:build !wasip1

package sdk

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// The SDK module's own files. A new package of the module must be added
// here; TestModuleFiles fails until it is. The build constraint keeps them
// out of plugins: a GOOS=wasip1 build never compiles this file.
//
//go:embed go.mod README.md *.go
//go:embed abi/*.go abi/README.md
//go:embed sdktest/*.go internal/fakehost/*.go
//go:embed verify/*.go verify/README.md
//go:embed c/*.go c/gw.h c/README.md
//go:embed assemblyscript/*.go assemblyscript/README.md assemblyscript/index.ts assemblyscript/asconfig.json assemblyscript/package.json
var source embed.FS

// ModuleFiles returns the files of this SDK module, github.com/eventgw/gateway/sdk,
// as the gateway was built with them: go.mod, the READMEs, and every
// package's source and embedded files, without tests. A development build
// of the gateway has no released SDK version to require, so `gateway plugin
// new` copies these into a new Go project and points a replace directive at
// the copy. It is not part of the plugin API, and not in plugins (it is
// built only outside GOOS=wasip1).
func ModuleFiles() fs.FS { return withoutTests{source} }

// withoutTests hides the _test.go files of an fs.FS.
type withoutTests struct{ fsys fs.FS }

func isTest(name string) bool { return strings.HasSuffix(path.Base(name), "_test.go") }

func (f withoutTests) Open(name string) (fs.File, error) {
	if isTest(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f.fsys.Open(name)
}

func (f withoutTests) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(f.fsys, name)
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return isTest(e.Name()) }), err
}

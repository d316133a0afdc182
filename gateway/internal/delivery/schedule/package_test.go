package schedule

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestPackage_clockFree checks that no file of the package, tests
// included, reads the clock, sleeps or starts a timer: time is an argument.
func TestPackage_clockFree(t *testing.T) {
	banned := map[string]bool{
		"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
		"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true,
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	require.True(t, len(files) > 0, "no Go files")
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		timePkg := ""
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "time" {
				timePkg = "time"
				if imp.Name != nil {
					timePkg = imp.Name.Name
				}
			}
		}
		if timePkg == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == timePkg && banned[sel.Sel.Name] {
				t.Errorf("%s: time.%s: the scheduler takes the time as an argument", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

// TestPackage_imports checks that the package depends on the standard
// library and the gateway's own packages only, and on neither the store
// nor Badger, directly or not: the scheduler is a data structure.
func TestPackage_imports(t *testing.T) {
	const module = "github.com/eventgw/gateway/"
	seen := map[string]bool{}
	var visit func(p *build.Package, from string)
	visit = func(p *build.Package, from string) {
		for _, path := range p.Imports {
			if seen[path] {
				continue
			}
			seen[path] = true
			if path == "C" {
				t.Errorf("%s imports C", from)
				continue
			}
			dep, err := build.Import(path, p.Dir, 0)
			require.NoError(t, err, "%s imports %s", from, path)
			switch {
			case dep.Goroot:
			case !strings.HasPrefix(path, module):
				t.Errorf("%s imports %s, outside the standard library and the gateway", from, path)
			case strings.HasPrefix(path, module+"gateway/internal/store") || strings.Contains(path, "badger"):
				t.Errorf("%s imports %s", from, path)
			default:
				visit(dep, path)
			}
		}
	}
	self, err := build.ImportDir(".", 0)
	require.NoError(t, err)
	visit(self, "schedule")
	require.True(t, seen[module+"gateway/event"], "the walk did not reach gateway/event: %v", seen)
}

package assemblyscript

import (
	"embed"
	"io/fs"
)

//go:embed index.ts asconfig.json package.json
var files embed.FS

// PackageName is the npm name plugins import the SDK by.
const PackageName = "eventgw-sdk"

// Files returns the SDK package's files: index.ts, asconfig.json and
// package.json.
func Files() fs.FS { return files }

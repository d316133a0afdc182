// Package toolchain builds a plugin's source directory into a WebAssembly
// module with its language's own compiler:
//
//   - Go: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath;
//   - C: clang --target=wasm32-wasi -mexec-model=reactor -O2 on every .c
//     file of the directory and its src/, with sdk/c/gw.h on the include
//     path after the project's own directories;
//   - AssemblyScript: the project's node_modules/.bin/asc on
//     assembly/index.ts with the project's asconfig.json (npm ci or npm
//     install first when node_modules is missing, both with
//     --ignore-scripts: no package's install script runs).
//
// `gateway plugin build`, the config's `source:` plugins (cached by Hash)
// and gateway/plugintest all build through here, so a plugin builds the
// same way everywhere.
package toolchain

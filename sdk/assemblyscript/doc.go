// Package assemblyscript carries the AssemblyScript SDK (the npm package
// eventgw-sdk: index.ts, asconfig.json and package.json) for Go tools:
// `gateway plugin new --lang assemblyscript` writes a copy into each new
// project, which then builds without a checkout of the gateway.
// AssemblyScript plugin authors use the files directly (see README.md);
// nothing here is needed to write an AssemblyScript plugin.
package assemblyscript

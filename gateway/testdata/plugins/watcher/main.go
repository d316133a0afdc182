// Command watcher is a test observer plugin: it logs every event it sees.
package main

import "github.com/eventgw/gateway/sdk"

func main() {}

func init() {
	sdk.Observe(func(e *sdk.Event) error {
		sdk.Info("watcher saw " + e.ID() + " " + e.Type())
		return nil
	})
}

package main

import (
	"io"

	"github.com/spf13/cobra"
)

// newPlugin is `gateway plugin`: the plugin author's commands.
func newPlugin(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Create, build and try WebAssembly plugins",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPluginNew(stdout), newPluginBuild(stdout), newPluginRun(stdout))
	return cmd
}

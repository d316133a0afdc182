package config_test

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/eventgw/gateway/gateway/config"
)

// A command wires its flags to config keys through FlagKeys. Only flags the
// user sets override the file and the environment.
func ExampleLoad() {
	flags := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	flags.String("addr", "", "listen address (server.addr)")
	flags.Bool("memory", false, "keep everything in RAM (storage.memory)")
	_ = flags.Parse([]string{"--addr=127.0.0.1:9090"})

	cfg, err := config.Load(config.LoadOptions{
		File:     "gateway.yaml", // optional: a missing file means defaults
		Env:      []string{"GATEWAY_LOG__FORMAT=json", "GATEWAY_ADMIN_KEY=ignored"},
		Flags:    flags,
		FlagKeys: map[string]string{"addr": "server.addr", "memory": "storage.memory"},
	})
	if err != nil {
		fmt.Println(err) // one "path: message" line per problem
		return
	}
	fmt.Println(cfg.Server.Addr, cfg.Log.Format, cfg.Storage.Memory)
	// Output: 127.0.0.1:9090 json false
}

func ExampleValidationError() {
	_, err := config.Load(config.LoadOptions{Env: []string{
		"GATEWAY_SERVER__ADDR=0.0.0.0:8080",
		"GATEWAY_LOG__LEVEL=loud",
	}})
	fmt.Println(err)
	// Output:
	// auth.api_keys: required when server.addr (0.0.0.0:8080) is not a loopback address; an open API may only listen on loopback
	// log.level: must be one of debug, info, warn or error, got "loud"
}

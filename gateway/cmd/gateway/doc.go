// Command gateway runs the event gateway and its tooling:
//
//	gateway serve    [--config gateway.yaml] [--addr host:port] [--data DIR] [--log-level LEVEL]
//	gateway validate [--config gateway.yaml]
//	gateway version
//
// Configuration precedence is defaults < YAML file < GATEWAY_* environment
// variables < flags (see package config).
package main

module github.com/eventgw/gateway/sdk

go 1.26

// npm installs (sdk/assemblyscript's compiler) hold no Go packages.
ignore node_modules

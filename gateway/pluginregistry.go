package gateway

import (
	"context"
	"log/slog"

	"github.com/eventgw/gateway/gateway/internal/delivery"
	"github.com/eventgw/gateway/gateway/internal/plugins"
)

// pluginRegistry is the plugin manager as the API's /v1/plugins routes
// use it, with one addition: after a plugin is uploaded or deleted, the
// delivery engine hears of it (TransformsChanged), so that a webhook held
// because its transform plugin was missing sends at once when the plugin
// is loaded, not at its next re-check.
type pluginRegistry struct {
	*plugins.Manager
	engine *delivery.Engine
	logger *slog.Logger
}

// Put uploads a plugin, then tells the engine.
func (r pluginRegistry) Put(ctx context.Context, s plugins.Settings, wasm []byte) (plugins.Info, error) {
	info, err := r.Manager.Put(ctx, s, wasm)
	if err == nil {
		r.changed(ctx)
	}
	return info, err
}

// Delete removes a plugin, then tells the engine.
func (r pluginRegistry) Delete(ctx context.Context, name string) error {
	err := r.Manager.Delete(ctx, name)
	if err == nil {
		r.changed(ctx)
	}
	return err
}

// changed tells the engine; a failure (the engine is stopping) only means
// held deliveries wait for their next re-check.
func (r pluginRegistry) changed(ctx context.Context) {
	if err := r.engine.TransformsChanged(ctx); err != nil {
		r.logger.Warn("telling the delivery engine about a plugin change failed; held deliveries look again at their next re-check", "err", err)
	}
}

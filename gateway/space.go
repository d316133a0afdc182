package gateway

import (
	"fmt"
	"os"

	"github.com/eventgw/gateway/gateway/internal/diskspace"
	"github.com/eventgw/gateway/gateway/internal/httpapi"
	"github.com/eventgw/gateway/gateway/internal/store"
)

// spaceWatch is the disk-space watcher of the data directory, or nil when
// there is none (storage.memory, or storage.min_free_bytes: -1). Its
// methods work on nil.
type spaceWatch struct{ w *diskspace.Watcher }

// watchSpace polls the data directory once and refuses to start when it is
// already short of space: Badger writes through memory maps as soon as it
// opens, and on a full disk that is a SIGBUS, so the check must come first
// and fail with one clear message.
func (g *Gateway) watchSpace() (*spaceWatch, error) {
	s := g.cfg.Storage
	if s.Memory || s.MinFreeBytes < 0 {
		return nil, nil
	}
	if err := os.MkdirAll(s.Path, 0o700); err != nil {
		return nil, fmt.Errorf("gateway: create storage.path: %w", err)
	}
	w, err := diskspace.New(diskspace.Options{
		Dir:      s.Path,
		MinFree:  s.MinFreeBytes,
		Interval: g.spaceInterval,
		Needed:   func() (int64, error) { return store.SpaceNeeded(s.Path) },
		Statfs:   g.statfs,
		Logger:   g.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: %w; set storage.min_free_bytes: -1 to start without the check", err)
	}
	if err := w.Err(); err != nil {
		return nil, fmt.Errorf("gateway: cannot start: %w", err)
	}
	return &spaceWatch{w: w}, nil
}

// guard is what the store asks before each append (nil: nothing).
func (s *spaceWatch) guard() store.SpaceGuard {
	if s == nil {
		return nil
	}
	return s.w
}

// reporter is what /readyz asks (nil: nothing).
func (s *spaceWatch) reporter() httpapi.SpaceReporter {
	if s == nil {
		return nil
	}
	return s.w
}

func (s *spaceWatch) start() {
	if s != nil {
		s.w.Start()
	}
}

func (s *spaceWatch) close() {
	if s != nil {
		s.w.Close()
	}
}

//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockShared takes a shared lock on dir, the lock Badger takes (exclusive
// to write, shared to read): it fails with ErrInUse while a gateway runs on
// dir, and keeps one from starting until unlock. Check holds it while it
// works on a scratch copy, which Badger's own lock does not cover.
func lockShared(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("store: lock %q: %w", dir, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("%w: %q is locked by another process, most likely a running gateway", ErrInUse, dir)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: lock %q: %w", dir, err)
	}
	return func() { f.Close() }, nil // closing the descriptor releases the lock
}

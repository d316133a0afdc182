package sdk

import (
	"errors"
	"fmt"

	"github.com/eventgw/gateway/sdk/abi"
)

// ErrDrop, returned by a Transform handler, drops the event for this stage.
var ErrDrop = errors.New("sdk: drop event")

// Errors the plugin services return, one per negative gw_v1 status. Test
// for them with errors.Is.
var (
	// ErrNotFound: no such key.
	ErrNotFound = errors.New("sdk: not found")
	// ErrTooLarge: a value, output or reason is over its limit.
	ErrTooLarge = errors.New("sdk: too large")
	// ErrQuota: the plugin's KV store is full.
	ErrQuota = errors.New("sdk: kv quota exceeded")
	// ErrInvalid: a malformed argument (an empty or too long key, a
	// negative TTL, kv_incr on a value that is not a counter).
	ErrInvalid = errors.New("sdk: invalid argument")
	// ErrUnavailable: the host could not serve the call; carry on without
	// it.
	ErrUnavailable = errors.New("sdk: host unavailable")
	// ErrWrongKind: the call does not apply to this plugin's kind.
	ErrWrongKind = errors.New("sdk: not available to this plugin kind")
)

// statusError maps a gw_v1 status to nil or one of the errors above.
func statusError(st int32) error {
	switch {
	case st >= abi.StatusOK:
		return nil
	case st == abi.StatusNotFound:
		return ErrNotFound
	case st == abi.StatusTooLarge:
		return ErrTooLarge
	case st == abi.StatusQuota:
		return ErrQuota
	case st == abi.StatusInvalid:
		return ErrInvalid
	case st == abi.StatusUnavailable:
		return ErrUnavailable
	case st == abi.StatusWrongKind:
		return ErrWrongKind
	}
	return fmt.Errorf("sdk: host status %d", st)
}

package audit_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/audit"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestOpen_file: audit.file gets one JSON line per call, appended to what
// is there, in a file only the gateway's user can read.
func TestOpen_file(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	main := slog.New(slog.DiscardHandler)
	for range 2 { // the second Open appends
		l, err := audit.Open(path, main)
		require.NoError(t, err)
		l.AuthFailed("192.0.2.1:5555", "invalid API key", audit.KeyHint("not-a-key-0123456789-abcd"))
		l.Changed(audit.KindWebhook, audit.ActionCreate, "wh_1", "ops")
		l.DialBlocked("wh_1", "10.0.0.1", "10.0.0.1 is a private address (RFC 1918)")
		l.PluginTimeout("fraud", "filter", 50*time.Millisecond)
		require.NoError(t, l.Close())
	}
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Equal(t, 8, len(lines))
	var kinds []string
	for _, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		require.Equal(t, true, m["audit"])
		require.Equal(t, m["msg"], m["kind"])
		kinds = append(kinds, m["kind"].(string))
	}
	require.Equal(t, "auth_failed changed dial_blocked plugin_timeout", strings.Join(kinds[:4], " "))
	require.True(t, strings.Contains(lines[0], `"key_hint":"…abcd"`), "%s", lines[0])
	require.True(t, strings.Contains(lines[3], `"deadline":50000000`), "%s", lines[3])
}

// TestOpen_errorNamesKey: a path that cannot be opened is an error naming
// audit.file.
func TestOpen_errorNamesKey(t *testing.T) {
	_, err := audit.Open(filepath.Join(t.TempDir(), "missing", "audit.log"), slog.New(slog.DiscardHandler))
	require.True(t, err != nil && strings.Contains(err.Error(), "audit.file"), "want an error naming audit.file, got %v", err)
}

// A nil *Log discards, so components built without one need no check.
func TestLog_nil(t *testing.T) {
	var l *audit.Log
	l.AuthFailed("", "", "")
	l.Changed(audit.KindPlugin, audit.ActionDelete, "x", "")
	l.DialBlocked("", "", "")
	l.PluginTimeout("", "", 0)
	require.NoError(t, l.Close())
}

func TestKeyHint(t *testing.T) {
	require.Equal(t, "", audit.KeyHint(""))
	require.Equal(t, "", audit.KeyHint("fifteen-chars-x"))
	require.Equal(t, "…cdef", audit.KeyHint("sixteen-ch-abcdef"))
}

// An existing audit file keeps its mode, and a warning says when others
// can read it.
func TestOpen_warnsOnOpenMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	require.NoError(t, os.Chmod(path, 0o644)) // past the umask
	var main strings.Builder
	l, err := audit.Open(path, slog.New(slog.NewTextHandler(&main, nil)))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Contains(t, main.String(), "chmod 600")
	require.Contains(t, main.String(), "-rw-r--r--")
}

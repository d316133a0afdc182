package store

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// finishedVlogRSS sums the resident KiB of the mappings of dir's value log
// files other than the newest, from /proc/self/smaps.
func finishedVlogRSS(t *testing.T, dir string) (kib int64, files int) {
	t.Helper()
	dir, err := filepath.Abs(dir)
	require.NoError(t, err)
	_, newest := vlogMappings(dir)
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	counting := false
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) >= 6 && strings.Contains(fs[0], "-"):
			p := fs[5]
			fid, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(p), ".vlog"))
			counting = filepath.Dir(p) == dir && strings.HasSuffix(p, ".vlog") && err == nil && fid != newest
			if counting {
				seen[p] = true
			}
		case len(fs) >= 2 && fs[0] == "Rss:" && counting:
			n, _ := strconv.ParseInt(fs[1], 10, 64)
			kib += n
		}
	}
	return kib, len(seen)
}

// TestStore_pager: the pages of finished value log files leave the
// process's resident memory; with 1 MiB events they were most of it.
func TestStore_pager(t *testing.T) {
	s, dir := openTemp(t, Options{Sync: true})
	appendLarge(t, s, 100) // ~100 MiB: value log files of 64 MiB, so one is finished
	k0, files := finishedVlogRSS(t, dir)
	t.Logf("finished vlog files %d, resident %d KiB", files, k0)
	require.True(t, files > 0, "no finished value log file is mapped; the test needs one")
	// Most of the 64 MiB file must leave, not all: MADV_PAGEOUT is advice,
	// and a loaded full-package run once kept 14 MiB of it resident for a
	// minute (folios the kernel would not split or reclaim), while the
	// pager had taken the rest. Without the pager all 64 MiB stay.
	const most = 32 << 10 // KiB: half of a finished 64 MiB value log file
	require.Eventually(t, "most of the finished value log file to leave resident memory", func() bool {
		kib, _ := finishedVlogRSS(t, dir)
		return kib < most
	})
}

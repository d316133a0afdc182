package store

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pageOutEvery is how often the pager runs.
const pageOutEvery = 250 * time.Millisecond

// madvPageout is MADV_PAGEOUT (Linux 5.4), missing from package syscall.
const madvPageout = 21

// pager keeps the value log's pages out of the gateway's resident memory.
//
// Badger maps every value log file into memory (MAP_SHARED) and writes and
// reads values through the mapping. With large events nearly all data goes
// to the value log, so its touched pages, gigabytes after a burst, showed up
// as the gateway's RSS (RssFile) although the kernel could drop them. Every
// pageOutEvery, the pager finds the mappings of finished value log files
// (every .vlog in dir but the newest, which Badger is writing) in
// /proc/self/maps and advises the kernel with MADV_PAGEOUT to reclaim their
// pages. A value read later faults back in from disk.
//
// MADV_PAGEOUT is only a hint and never changes memory contents, which is
// why it is safe without holding Badger's locks: if Badger unmaps a file
// (value log GC) between the read of the maps and the advice, and the range
// is reused for Go's heap, that heap is at worst swapped, never lost.
// MADV_DONTNEED would drop the pages of such a reused anonymous range.
//
// It runs on its own goroutine until stop is closed; done is closed when it
// has returned.
func runPager(dir string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	dir, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	t := time.NewTicker(pageOutEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			pageOutValueLog(dir)
		}
	}
}

// vlogMapping is one mapped range of a value log file.
type vlogMapping struct {
	start, end uintptr
	fid        int
}

// pageOutValueLog advises MADV_PAGEOUT for the mapped ranges of every value
// log file in dir but the newest.
func pageOutValueLog(dir string) {
	maps, newest := vlogMappings(dir)
	for _, m := range maps {
		if m.fid != newest {
			// Errors (a range unmapped meanwhile, an old kernel) are
			// harmless: the pages stay where they are.
			_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, madvPageout)
		}
	}
}

// vlogMappings lists the mappings of dir's value log files in
// /proc/self/maps, and the newest file id among them.
func vlogMappings(dir string) (out []vlogMapping, newest int) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || filepath.Dir(f[5]) != dir || !strings.HasSuffix(f[5], ".vlog") {
			continue
		}
		fid, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f[5]), ".vlog"))
		if err != nil {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		out = append(out, vlogMapping{start: uintptr(start), end: uintptr(end), fid: fid})
		newest = max(newest, fid)
	}
	return out, newest
}

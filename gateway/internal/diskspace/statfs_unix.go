//go:build linux || darwin || freebsd || netbsd || openbsd

package diskspace

import (
	"os"
	"syscall"
)

// statfs asks the kernel for the usage of dir's filesystem.
func statfs(dir string) (Usage, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return Usage{}, err
	}
	bs := uint64(st.Bsize)
	return Usage{Total: uint64(st.Blocks) * bs, Avail: uint64(st.Bavail) * bs}, nil
}

// Allocated returns the bytes of disk a file occupies (its blocks), which
// for a sparse file is less than its size. ok is false where the platform
// does not say.
func Allocated(fi os.FileInfo) (n int64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int64(st.Blocks) * 512, true
}

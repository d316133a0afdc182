//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package diskspace

import (
	"errors"
	"os"
)

// statfs is not implemented here: New fails, and the gateway says so.
func statfs(string) (Usage, error) {
	return Usage{}, errors.New("free space cannot be read on this platform; set storage.min_free_bytes to -1 to run without the check")
}

// Allocated does not know on this platform.
func Allocated(os.FileInfo) (int64, bool) { return 0, false }

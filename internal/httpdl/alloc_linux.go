package httpdl

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// preallocate reserves size bytes of disk for f with fallocate(2), so that a
// full disk fails the download at its start (ENOSPC) rather than hours in.
// File systems without fallocate keep a sparse file.
func preallocate(f *os.File, size int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("preallocating: %w", err)
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Fallocate(int(fd), 0, 0, size)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return fmt.Errorf("preallocating: %w", err)
	}
	if errors.Is(ferr, unix.EOPNOTSUPP) || errors.Is(ferr, unix.ENOSYS) || errors.Is(ferr, unix.EINVAL) {
		return nil
	}
	if ferr != nil {
		return fmt.Errorf("preallocating %d bytes: %w", size, ferr)
	}
	return nil
}

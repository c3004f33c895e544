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

// diskRoom returns the bytes an unprivileged writer may still use on the
// file system holding dir, plus the blocks already allocated to reuse (an
// earlier attempt's .part file, which a new attempt overwrites or keeps).
// ok is false when the file system cannot be measured.
func diskRoom(dir, reuse string) (room int64, ok bool) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, false
	}
	room = int64(fs.Bavail) * int64(fs.Bsize)
	var st unix.Stat_t
	if err := unix.Stat(reuse, &st); err == nil {
		room += st.Blocks * 512
	}
	return room, true
}

package httpdl

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the dirty pages of f in
// [off, off+n) to the device, without waiting for them. It is only a hint
// that spreads the disk writes over the download: without it the kernel
// leaves most written bytes in the page cache until a checkpoint's or the
// final fdatasync, which then waits for all of them at once. Durability
// still comes from datasync alone, so callers may ignore the error.
func startWriteback(f *os.File, off, n int64) error {
	if n <= 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("starting writeback: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
			if !errors.Is(serr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return fmt.Errorf("starting writeback: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("starting writeback of %d bytes at %d: %w", n, off, serr)
	}
	return nil
}

// datasync makes the data of f durable with fdatasync(2). Unlike fsync it
// skips the timestamps, which a resume does not need; the file size and
// the extent changes that reading the data back depends on are included.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("syncing: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = unix.Fdatasync(int(fd))
			if !errors.Is(serr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return fmt.Errorf("syncing: %w", err)
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}

//go:build !linux

package httpdl

import "os"

// startWriteback is a no-op where sync_file_range(2) is not available; the
// data still becomes durable through datasync, only later in one piece.
func startWriteback(*os.File, int64, int64) error { return nil }

// datasync makes the data of f durable with the platform's fsync.
func datasync(f *os.File) error { return f.Sync() }

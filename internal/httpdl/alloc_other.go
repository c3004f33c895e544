//go:build !linux

package httpdl

import "os"

// preallocate is a no-op where fallocate(2) is not available; the file
// stays sparse and a full disk shows up as a write error.
func preallocate(*os.File, int64) error { return nil }

// diskRoom cannot measure the disk here; the floor is then not enforced by
// the engine.
func diskRoom(string, string) (int64, bool) { return 0, false }

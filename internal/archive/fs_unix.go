//go:build unix

package archive

import (
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// linkInto hard-links the file at src to rel under root. The new name is
// resolved through the root (its folder is opened with the root, then
// linkat(2) works relative to that folder), so it cannot land outside.
func linkInto(root *os.Root, src, rel string) error {
	dir, err := root.Open(path.Dir(rel))
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := unix.Linkat(unix.AT_FDCWD, src, int(dir.Fd()), path.Base(rel), 0); err != nil {
		return &os.LinkError{Op: "link", Old: src, New: rel, Err: err}
	}
	return nil
}

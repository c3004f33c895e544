package archive

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncDir makes everything written under root durable with one syncfs(2)
// of its file system: cheaper than an fsync per file for trees of many small
// files, and the caller deletes the source once extraction has succeeded.
func syncDir(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}

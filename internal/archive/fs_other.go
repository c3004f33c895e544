//go:build !unix

package archive

import (
	"errors"
	"os"
)

// linkInto is not available here: the caller copies instead.
func linkInto(*os.Root, string, string) error { return errors.ErrUnsupported }

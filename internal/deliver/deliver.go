// Package deliver puts a finished result into a mirror destination
// directory. It owns nothing beyond one call: it receives a source path (a
// file or a folder) and a destination directory, and emits the final path.
//
// A partial result is never visible at the destination: the data is written
// under a hidden temporary name of fixed length in the destination
// directory, fsynced, then renamed into place. When source and destination share a filesystem the
// result is simply renamed (no copy). An existing entry with the same name
// is never overwritten: " (1)", " (2)", … is appended instead.
//
// Failures are returned wrapped (ENOSPC, EACCES reachable with errors.Is);
// on any failure or cancellation the temporary data is removed.
package deliver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Progress reports bytes copied so far (only when a copy is needed).
type Progress func(done, total int64)

// ToDir moves or copies src into destDir under name and returns the final
// path.
func ToDir(ctx context.Context, src, destDir, name string, progress Progress) (string, error) {
	return toDir(ctx, src, destDir, name, progress, false)
}

// KeepToDir is ToDir for a source that must stay in place (a torrent that
// goes on seeding from it): files are hard-linked when the destination is on
// the same filesystem, copied otherwise. A link shares the file's data, so
// the mirror costs no space and no time.
func KeepToDir(ctx context.Context, src, destDir, name string, progress Progress) (string, error) {
	return toDir(ctx, src, destDir, name, progress, true)
}

func toDir(ctx context.Context, src, destDir, name string, progress Progress, keep bool) (string, error) {
	if progress == nil {
		progress = func(int64, int64) {}
	}
	if err := os.MkdirAll(destDir, 0o755); err != nil {
		return "", fmt.Errorf("creating destination %s: %w", destDir, err)
	}
	tmp := filepath.Join(destDir, tempName(name))
	_ = os.RemoveAll(tmp) // a leftover of an interrupted attempt
	var err error
	if keep {
		err = linkTree(src, tmp)
		if errors.Is(err, syscall.EXDEV) {
			_ = os.RemoveAll(tmp)
			err = copyTree(ctx, src, tmp, progress, false)
		}
	} else {
		err = os.Rename(src, tmp)
		if errors.Is(err, syscall.EXDEV) {
			err = copyTree(ctx, src, tmp, progress, true)
		}
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("moving the result into %s: %w", destDir, err)
	}
	final, err := claimName(destDir, name, tmp)
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	if err := syncDir(destDir); err != nil {
		return "", err
	}
	return final, nil
}

// maxNameBytes is NAME_MAX of Linux file systems: the longest name, in
// bytes, of one path element.
const maxNameBytes = 255

// tempName is the hidden name a result is assembled under: fixed-length and
// derived from the final name, so every legal final name (up to 255 bytes)
// has a temporary name the file system accepts, and two results of
// different names never share one.
func tempName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return ".mirrorleech-" + hex.EncodeToString(sum[:8]) + ".partial"
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a rune.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// claimName renames tmp to the first free variant of name, " (N)" going
// before the extension and the stem shortened (at a rune boundary) when the
// variant would exceed NAME_MAX. os.Link-style
// exclusivity is not available for directories, so a check-then-rename is
// used; the destination is owned by this bot.
func claimName(dir, name, tmp string) (string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 0; i < 1000; i++ {
		cand := name
		if i > 0 {
			suffix := fmt.Sprintf(" (%d)%s", i, ext)
			cand = cutUTF8(stem, maxNameBytes-len(suffix)) + suffix
		}
		p := filepath.Join(dir, cand)
		if _, err := os.Lstat(p); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("checking %s: %w", p, err)
		}
		if err := os.Rename(tmp, p); err != nil {
			return "", fmt.Errorf("renaming into place: %w", err)
		}
		return p, nil
	}
	return "", fmt.Errorf("no free name for %s in %s", name, dir)
}

// linkTree recreates the folders of src under dst and hard-links its
// regular files there.
func linkTree(src, dst string) error {
	return walkTree(src, dst, func(p, target string) error { return os.Link(p, target) })
}

// copyTree copies src to dst, then removes src if remove is set.
func copyTree(ctx context.Context, src, dst string, progress Progress, remove bool) error {
	var total int64
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("measuring %s: %w", src, err)
	}
	var done int64
	err = walkTree(src, dst, func(p, target string) error {
		n, err := copyFile(ctx, p, target, func(n int64) { progress(done+n, total) })
		done += n
		return err
	})
	if err != nil || !remove {
		return err
	}
	return os.RemoveAll(src)
}

// walkTree recreates the folders of src (a folder or a file) under dst and
// calls file for every regular file with its path at dst. Links and devices
// are not delivered.
func walkTree(src, dst string, file func(p, target string) error) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return file(p, target)
		}
		return nil
	})
}

func copyFile(ctx context.Context, src, dst string, progress func(int64)) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, &ctxReader{ctx: ctx, r: in, progress: progress})
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

type ctxReader struct {
	ctx      context.Context
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.progress(c.n)
	return n, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

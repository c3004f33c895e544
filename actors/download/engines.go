package download

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/httpdl"
	"github.com/mirrorleech/mirrorleech/internal/netguard"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/messages"
)

// HTTP adapts the segmented HTTP engine: the link is checked by the network
// guard first (a refused address fails at once, nothing is fetched), and the
// guard's dialer enforces the same rule on every connection, redirects
// included.
type HTTP struct {
	Guard      *netguard.Guard
	Downloader *httpdl.Downloader
}

// Fetch implements Engine.
func (h *HTTP) Fetch(ctx context.Context, job Job, progress func(Progress)) (messages.DownloadFinished, error) {
	if _, err := h.Guard.CheckURL(ctx, job.Spec.Source.URL); err != nil {
		return messages.DownloadFinished{}, err
	}
	res, err := h.Downloader.Download(ctx, httpdl.Request{
		URL:     job.Spec.Source.URL,
		Dir:     job.Dir,
		Name:    job.Spec.Name,
		MaxSize: job.MaxSize,
		Progress: func(p httpdl.Progress) {
			progress(Progress{Name: p.Name, Done: p.Done, Total: p.Total,
				Note: fmt.Sprintf("%d connections", p.Connections)})
		},
	})
	if err != nil {
		return messages.DownloadFinished{}, fmt.Errorf("downloading: %w", err)
	}
	return messages.DownloadFinished{Path: res.Path, Name: res.Name, Size: res.Size}, nil
}

// Telegram fetches a document posted in the chat through getFile and the
// file endpoint (or, with a local Bot API server, straight from its disk).
type Telegram struct {
	Client *tgapi.Client
}

// Fetch implements Engine.
func (t *Telegram) Fetch(ctx context.Context, job Job, progress func(Progress)) (messages.DownloadFinished, error) {
	src := job.Spec.Source.File
	name := job.Spec.Name
	if name == "" {
		name = src.Name
	}
	name = httpdl.SanitizeName(name)
	f, err := t.Client.GetFile(ctx, src.FileID)
	if err != nil {
		return messages.DownloadFinished{}, fmt.Errorf("getting the file from Telegram: %w", err)
	}
	if err := os.MkdirAll(job.Dir, 0o755); err != nil {
		return messages.DownloadFinished{}, fmt.Errorf("creating %s: %w", job.Dir, err)
	}
	final := filepath.Join(job.Dir, name)
	part := filepath.Join(job.Dir, partName(name))
	out, err := os.Create(part)
	if err != nil {
		return messages.DownloadFinished{}, fmt.Errorf("creating %s: %w", filepath.Base(part), err)
	}
	total := f.Size
	if total <= 0 {
		total = src.Size
	}
	var w io.Writer = out
	if job.MaxSize > 0 {
		// The declared size was checked before; the limit must also hold
		// on what actually arrives.
		w = &capWriter{w: out, max: job.MaxSize}
	}
	var last time.Time
	n, err := t.Client.Download(ctx, f, w, func(done int64) {
		if now := time.Now(); now.Sub(last) > 250*time.Millisecond || done == total {
			last = now
			progress(Progress{Name: name, Done: done, Total: total})
		}
	})
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && total > 0 && n != total {
		err = fmt.Errorf("got %d of %d bytes: %w", n, total, httpdl.ErrSizeMismatch)
	}
	if err == nil {
		err = os.Rename(part, final)
	}
	if err != nil {
		_ = os.Remove(part)
		var tooBig *httpdl.TooLargeError
		if errors.Is(err, tgapi.ErrFileTooBig) || errors.As(err, &tooBig) {
			return messages.DownloadFinished{}, err
		}
		return messages.DownloadFinished{}, fmt.Errorf("downloading the file from Telegram: %w", err)
	}
	return messages.DownloadFinished{Path: final, Name: name, Size: n}, nil
}

// partName is the name a Telegram file is written under until complete: a
// fixed-length name derived from the final name, so that any legal final
// name (up to 255 bytes) has a temporary name the file system accepts.
func partName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return ".telegram-" + hex.EncodeToString(sum[:8]) + ".part"
}

// capWriter passes at most max bytes and fails with *httpdl.TooLargeError
// (size unknown) on the first byte beyond.
type capWriter struct {
	w   io.Writer
	max int64
	n   int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if room := c.max - c.n; int64(len(p)) > room {
		n, err := c.w.Write(p[:room])
		c.n += int64(n)
		if err != nil {
			return n, err
		}
		return n, &httpdl.TooLargeError{Size: -1, Limit: c.max}
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

var (
	_ Engine = (*HTTP)(nil)
	_ Engine = (*Telegram)(nil)
)

package download

import (
	"context"
	"errors"
	"fmt"
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
		URL:  job.Spec.Source.URL,
		Dir:  job.Dir,
		Name: job.Spec.Name,
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
	part := final + ".part"
	out, err := os.Create(part)
	if err != nil {
		return messages.DownloadFinished{}, fmt.Errorf("creating %s: %w", part, err)
	}
	total := f.Size
	if total <= 0 {
		total = src.Size
	}
	var last time.Time
	n, err := t.Client.Download(ctx, f, out, func(done int64) {
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
		if errors.Is(err, tgapi.ErrFileTooBig) {
			return messages.DownloadFinished{}, err
		}
		return messages.DownloadFinished{}, fmt.Errorf("downloading the file from Telegram: %w", err)
	}
	return messages.DownloadFinished{Path: final, Name: name, Size: n}, nil
}

var (
	_ Engine = (*HTTP)(nil)
	_ Engine = (*Telegram)(nil)
)

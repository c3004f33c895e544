package download

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/httpdl"
	"github.com/mirrorleech/mirrorleech/internal/netguard"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// MaxTorrentFile bounds a .torrent file fetched from a link or the chat:
// real ones are kilobytes, rarely a few MiB for huge multi-file sets.
const MaxTorrentFile = 16 << 20

// sourceFile keeps the .torrent a task started from in its folder, so a
// resumed task does not depend on the link (or the chat file) still working.
const sourceFile = "source.torrent"

// Torrent adapts the node's BitTorrent client. Magnet links go straight to
// the client; .torrent files are fetched first, links through the network
// guard (redirects included) and posted files through the Bot API. The
// client itself belongs to the node's torrents actor, not to the task.
type Torrent struct {
	Client   *torrent.Client
	Guard    *netguard.Guard
	Telegram *tgapi.Client
	// StallTimeout fails a torrent that gets no metadata or data this long.
	StallTimeout time.Duration
	// HTTP fetches .torrent links: the node's guarded client (its dialer
	// and redirect check apply the guard), shared with the HTTP engine.
	HTTP *http.Client
}

// fetchTimeout bounds fetching a .torrent file, which is small.
const fetchTimeout = 2 * time.Minute

// Fetch implements Engine.
func (e *Torrent) Fetch(ctx context.Context, job Job, progress func(Progress)) (messages.DownloadFinished, error) {
	req := torrent.Request{
		Dir:          job.Dir,
		StallTimeout: e.StallTimeout,
		Seed:         torrent.SeedLimits{Ratio: job.Spec.Seed.Ratio, Time: job.Spec.Seed.Time},
		Progress: func(p torrent.Progress) {
			note := ""
			switch p.Phase {
			case torrent.PhaseMetadata:
				note = "fetching metadata"
			case torrent.PhaseVerifying:
				note = "verifying pieces"
			}
			if p.Phase != torrent.PhaseMetadata && p.Peers == 0 {
				note = "looking for peers"
			}
			progress(Progress{Name: p.Name, Done: p.Done, Total: p.Total, Note: note,
				Peers: p.Peers, Seeders: p.Seeders, Uploaded: p.Uploaded})
		},
	}
	if (job.Spec.Select && job.Choose != nil) || job.MaxSize > 0 {
		req.Select = func(ctx context.Context, files []torrent.File) ([]int, error) {
			return choose(ctx, job, files)
		}
	}
	if src := job.Spec.Source; src.IsMagnet() {
		req.Magnet = src.URL
	} else {
		meta, err := e.metaInfo(ctx, job)
		if err != nil {
			return messages.DownloadFinished{}, err
		}
		req.MetaInfo = meta
	}
	res, err := e.Client.Download(ctx, req)
	if err != nil {
		return messages.DownloadFinished{}, fmt.Errorf("downloading the torrent: %w", err)
	}
	return messages.DownloadFinished{Path: res.Path, Name: res.Name, Size: res.Size}, nil
}

// choose picks the files to download: the user's choice with -s, else all.
// The size limit is checked here, where the engine knows the file list from
// the metadata and has not requested a single piece yet.
func choose(ctx context.Context, job Job, files []torrent.File) ([]int, error) {
	var picked []int
	if job.Spec.Select && job.Choose != nil {
		list := make([]messages.TorrentFile, len(files))
		for i, f := range files {
			list[i] = messages.TorrentFile{Index: f.Index, Path: f.Path, Size: f.Size}
		}
		var err error
		if picked, err = job.Choose(ctx, list); err != nil {
			return nil, err
		}
	} else {
		for _, f := range files {
			picked = append(picked, f.Index)
		}
	}
	if job.MaxSize > 0 {
		sizes := make(map[int]int64, len(files))
		for _, f := range files {
			sizes[f.Index] = f.Size
		}
		var total int64
		for _, i := range picked {
			total += sizes[i]
			delete(sizes, i) // a file picked twice is downloaded once
		}
		if total > job.MaxSize {
			return nil, &httpdl.TooLargeError{Size: total, Limit: job.MaxSize}
		}
	}
	return picked, nil
}

// metaInfo returns the task's .torrent: the copy kept in its folder, or a
// fresh one from the link or the chat, which is then kept.
func (e *Torrent) metaInfo(ctx context.Context, job Job) ([]byte, error) {
	kept := filepath.Join(job.Dir, sourceFile)
	if b, err := os.ReadFile(kept); err == nil && len(b) > 0 {
		return b, nil
	}
	var (
		b   []byte
		err error
	)
	if f := job.Spec.Source.File; f != nil {
		b, err = e.fromChat(ctx, f)
	} else {
		b, err = e.fromLink(ctx, job.Spec.Source.URL)
	}
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(job.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", job.Dir, err)
	}
	tmp := kept + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, fmt.Errorf("keeping the .torrent file: %w", err)
	}
	if err := os.Rename(tmp, kept); err != nil {
		return nil, fmt.Errorf("keeping the .torrent file: %w", err)
	}
	return b, nil
}

func (e *Torrent) fromChat(ctx context.Context, src *messages.TelegramFile) ([]byte, error) {
	if src.Size > MaxTorrentFile {
		return nil, supervision.NewUserError(fmt.Sprintf("that .torrent file is %d bytes; the bot reads at most %d", src.Size, MaxTorrentFile))
	}
	f, err := e.Telegram.GetFile(ctx, src.FileID)
	if err != nil {
		return nil, fmt.Errorf("getting the .torrent file from Telegram: %w", err)
	}
	var buf bytes.Buffer
	if _, err := e.Telegram.Download(ctx, f, &limitWriter{w: &buf, left: MaxTorrentFile}, nil); err != nil {
		if errors.Is(err, errTorrentTooBig) {
			return nil, supervision.NewUserError(fmt.Sprintf("that .torrent file is larger than the %d bytes the bot reads", MaxTorrentFile))
		}
		return nil, fmt.Errorf("downloading the .torrent file from Telegram: %w", err)
	}
	return buf.Bytes(), nil
}

func (e *Torrent) fromLink(ctx context.Context, link string) ([]byte, error) {
	u, err := e.Guard.CheckURL(ctx, link)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetching the .torrent file: %w", err)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the .torrent file: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the .torrent file: %w", &httpdl.StatusError{Code: resp.StatusCode,
			Status: resp.Status, URL: u.Scheme + "://" + u.Host + u.Path})
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxTorrentFile+1))
	if err != nil {
		return nil, fmt.Errorf("fetching the .torrent file: %w", err)
	}
	if len(b) > MaxTorrentFile {
		return nil, supervision.NewUserError(fmt.Sprintf("the linked .torrent file is larger than the %d bytes the bot reads", MaxTorrentFile))
	}
	return b, nil
}

var errTorrentTooBig = errors.New("the .torrent file is too large")

type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errTorrentTooBig
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

var _ Engine = (*Torrent)(nil)

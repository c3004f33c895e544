package tgapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mymmrac/telego"
	tu "github.com/mymmrac/telego/telegoutil"
)

// errUploadOver is what the upload reader returns once SendDocument has
// returned; telego's multipart goroutine may still be reading then.
var errUploadOver = errors.New("upload is over")

// SendDocument sends the byte range [Offset, Offset+Length) of u.Path as a
// document named u.FileName and returns the message ID.
//
// The range is streamed from the file into the multipart request body; it
// is never held in memory, and the server sees only FileName, never the
// local path. progress, when not nil, receives the number of bytes that
// entered the request body, at most four times a second and once at
// Length; it runs on another goroutine and is never called after
// SendDocument returns. Bytes through the body are not bytes at Telegram:
// the Bot API server answers only after it has passed the whole file on.
//
// A range larger than MaxUploadSize fails with ErrTooLarge before anything
// is sent. The call has no deadline of its own; cancel ctx to abort it (the
// connection is dropped at once). It is not retried here: a retry is a new
// call, which reads the range again.
func (c *Client) SendDocument(ctx context.Context, u Upload, progress func(sent int64)) (int, error) {
	const method = "sendDocument"
	if u.Offset < 0 || u.Length < 0 {
		return 0, fmt.Errorf("telegram %s: invalid range %d+%d of %s", method, u.Offset, u.Length, u.Path)
	}
	if limit := c.MaxUploadSize(); u.Length > limit {
		return 0, fmt.Errorf("telegram %s: %s is %d bytes, more than the %d allowed: %w", method, u.FileName, u.Length, limit, ErrTooLarge)
	}
	f, err := os.Open(u.Path)
	if err != nil {
		return 0, fmt.Errorf("telegram %s: opening the file: %w", method, err)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("telegram %s: reading the file's size: %w", method, err)
	}
	if end := u.Offset + u.Length; end > st.Size() {
		return 0, fmt.Errorf("telegram %s: range %d+%d ends past the end of %s (%d bytes)", method, u.Offset, u.Length, u.Path, st.Size())
	}
	name := u.FileName
	if name == "" {
		name = filepath.Base(u.Path)
	}
	body := &sectionReader{r: io.NewSectionReader(f, u.Offset, u.Length), total: u.Length, progress: progress}
	defer body.stop()
	p := &telego.SendDocumentParams{
		ChatID: tu.ID(u.ChatID),
		// The name, not the path: for an *os.File telego would send the
		// path given to os.Open.
		Document:        tu.File(tu.NameReader(body, name)),
		Caption:         u.Caption,
		ReplyParameters: replyTo(u.ChatID, u.ReplyTo),
	}
	if u.HTML && u.Caption != "" {
		p.ParseMode = telego.ModeHTML
	}
	m, err := c.bot.SendDocument(ctx, p)
	if err != nil {
		// A failing read of the file surfaces as a failed request body;
		// report it as what it is, not as a network error.
		if rerr := body.stop(); rerr != nil {
			return 0, fmt.Errorf("telegram %s: reading %s: %w", method, u.Path, rerr)
		}
		err = c.wrap(method, err)
		if body.complete() && maybeDelivered(err) {
			err = fmt.Errorf("%w (%w)", err, ErrMaybeDelivered)
		}
		return 0, err
	}
	if m == nil {
		return 0, fmt.Errorf("telegram %s: empty result", method)
	}
	return m.MessageID, nil
}

// sectionReader is the upload body: it counts the bytes read, reports
// progress, turns a premature end of the file into an error (a file that
// shrank must not be sent truncated) and goes quiet after stop.
type sectionReader struct {
	r        io.Reader
	total    int64
	progress func(int64)

	mu      sync.Mutex
	sent    int64
	last    time.Time
	err     error // first read error other than io.EOF
	stopped bool
}

func (s *sectionReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		return 0, errUploadOver
	}
	n, err := s.r.Read(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return 0, errUploadOver
	}
	s.sent += int64(n)
	if err == io.EOF && s.sent < s.total {
		err = fmt.Errorf("the file ended after %d of %d bytes: %w", s.sent, s.total, io.ErrUnexpectedEOF)
	}
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	if n > 0 && s.progress != nil {
		// Called under the lock so that stop waits for a running call.
		if now := time.Now(); s.sent == s.total || now.Sub(s.last) >= progressEvery {
			s.last = now
			s.progress(s.sent)
		}
	}
	return n, err
}

// complete reports whether the whole range went into the request body.
func (s *sectionReader) complete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent == s.total && s.err == nil
}

// maybeDelivered reports whether a failed call's error leaves open that the
// server acted on it: anything but an answer of the Bot API that refused it
// (a 4xx, flood control) or a cancellation of our own.
func maybeDelivered(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code >= 500 && ae.RetryAfter == 0
	}
	return IsTransient(err)
}

// stop ends progress reports and returns the read error, if any.
func (s *sectionReader) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	return s.err
}

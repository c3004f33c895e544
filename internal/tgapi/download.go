package tgapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxErrorBody caps the error page read from the file endpoint.
const maxErrorBody = 64 << 10

// Download copies a file found by GetFile into w and returns the number of
// bytes written. With the cloud Bot API it streams a GET of the file
// endpoint; with a local server (absolute Path) it reads the file from disk,
// which must be visible to the bot at the same path. progress, when not
// nil, receives the bytes written so far, at most four times a second and
// once at the end, on the calling goroutine. Callers compare the result
// with File.Size; a write error is returned as it is (disk full stays
// reachable as syscall.ENOSPC).
func (c *Client) Download(ctx context.Context, f File, w io.Writer, progress func(int64)) (int64, error) {
	const method = "download"
	switch {
	case f.Path == "":
		return 0, fmt.Errorf("telegram %s: file %s has no path", method, f.ID)
	case filepath.IsAbs(f.Path) && c.local:
		return c.downloadLocal(ctx, f.Path, w, progress)
	case filepath.IsAbs(f.Path):
		// Reading local files named by the server only makes sense with a
		// local server the operator configured.
		return 0, fmt.Errorf("telegram %s: the Bot API server returned the local path %q, but the client is not configured for a local server", method, f.Path)
	}
	u := c.apiURL + "/file/bot" + c.token + "/" + escapePath(f.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, c.downloadFailed(0, fmt.Errorf("building the request: %w", err))
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, c.downloadFailed(0, err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode >= http.StatusInternalServerError:
		return 0, c.downloadFailed(resp.StatusCode, fmt.Errorf("internal server error: %d", resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return 0, c.downloadRefused(resp)
	}
	n, err := copyProgress(ctx, w, resp.Body, progress)
	var re *readError
	if errors.As(err, &re) {
		return n, c.downloadFailed(0, re.err)
	}
	return n, err
}

// downloadLocal reads a file that a local Bot API server stored.
func (c *Client) downloadLocal(ctx context.Context, path string, w io.Writer, progress func(int64)) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("telegram download: opening the local Bot API server's file: %w", err)
	}
	defer func() { _ = f.Close() }()
	n, err := copyProgress(ctx, w, f, progress)
	var re *readError
	if errors.As(err, &re) {
		return n, fmt.Errorf("telegram download: reading %s: %w", path, re.err)
	}
	return n, err
}

// downloadFailed builds the TransportError of a download, token redacted.
func (c *Client) downloadFailed(status int, err error) error {
	redactURLs(err, c.token)
	return &TransportError{Method: "download", Status: status, Err: &redactedError{msg: Redact(err.Error(), c.token), err: err}}
}

// downloadRefused turns a 4xx of the file endpoint into an APIError, using
// the Bot API envelope when the body is one.
func (c *Client) downloadRefused(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var env struct {
		Description string `json:"description"`
	}
	desc := http.StatusText(resp.StatusCode)
	if json.Unmarshal(body, &env) == nil && env.Description != "" {
		desc = env.Description
	}
	e := &APIError{Method: "download", Code: resp.StatusCode, Description: Redact(desc, c.token)}
	if p := headerRetryAfter(resp.Header); p != nil {
		e.RetryAfter = time.Duration(p.RetryAfter) * time.Second
	}
	return e
}

// escapePath escapes each segment of a relative file path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// readError marks a failure of the source in copyProgress.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// copyProgress copies src to dst, reporting progress at most every
// progressEvery and once at the end, and stopping when ctx is done. Source
// errors come back as *readError, write errors wrapped as they are.
func copyProgress(ctx context.Context, dst io.Writer, src io.Reader, progress func(int64)) (int64, error) {
	buf := make([]byte, 64<<10)
	var (
		n        int64
		last     time.Time
		reported int64 = -1
	)
	report := func(final bool) {
		if progress == nil || n == reported {
			return
		}
		if now := time.Now(); final || now.Sub(last) >= progressEvery {
			last, reported = now, n
			progress(n)
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return n, &readError{err: err}
		}
		k, rerr := src.Read(buf)
		if k > 0 {
			w, werr := dst.Write(buf[:k])
			n += int64(w)
			if werr == nil && w < k {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return n, fmt.Errorf("telegram download: writing: %w", werr)
			}
			report(false)
		}
		if rerr == io.EOF {
			report(true)
			return n, nil
		}
		if rerr != nil {
			if err := ctx.Err(); err != nil && !errors.Is(rerr, err) {
				rerr = fmt.Errorf("%w: %w", err, rerr)
			}
			return n, &readError{err: rerr}
		}
	}
}

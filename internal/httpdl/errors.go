package httpdl

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrRemoteChanged is returned when the remote file changed under a
// download: a ranged request was answered with 200 (the If-Range validator
// no longer matches), 416, or a different total size, or a re-probe found
// another size or validator, or a 206 carried another ETag or Last-Modified
// than the probe saw. All partial data and the control file have been
// deleted. Download starts over once by itself; this error means the file
// changed again.
var ErrRemoteChanged = errors.New("remote file changed during download")

// ErrSizeMismatch is returned when a body is shorter or longer than its
// headers declared. A short body is usually a cut connection; the returned
// error then also wraps io.ErrUnexpectedEOF when the transport reported one.
var ErrSizeMismatch = errors.New("body size differs from the declared size")

// ErrStalled is returned when no body bytes (or no response headers) arrived
// on a connection for Options.StallTimeout.
var ErrStalled = errors.New("download stalled")

// ErrBadResponse is returned when the server breaks HTTP range semantics in
// a way that retrying the same request cannot fix: a 206 whose
// Content-Range is missing, malformed or covers other bytes than asked for,
// or a probe whose Content-Range does not describe byte 0.
var ErrBadResponse = errors.New("malformed response from server")

// StatusError reports an unexpected HTTP status.
type StatusError struct {
	// Code is the status code, e.g. 404.
	Code int
	// Status is the status line text, e.g. "404 Not Found".
	Status string
	// URL is the requested URL reduced to scheme, host and path: userinfo
	// and query often carry credentials and are left out.
	URL string
	// RetryAfter is the delay asked for by a Retry-After header of a 429 or
	// 503 response; zero when absent or unparsable.
	RetryAfter time.Duration
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("unexpected http status %s from %s", e.Status, e.URL)
}

// Temporary reports whether retrying later may succeed: 5xx, 408 Request
// Timeout, 425 Too Early and 429 Too Many Requests are temporary, every other
// status is permanent for this URL.
func (e *StatusError) Temporary() bool {
	switch {
	case e.Code >= 500:
		return true
	case e.Code == http.StatusRequestTimeout, e.Code == http.StatusTooEarly, e.Code == http.StatusTooManyRequests:
		return true
	}
	return false
}

// newStatusError builds a StatusError from a response.
func newStatusError(resp *http.Response, now time.Time) *StatusError {
	e := &StatusError{Code: resp.StatusCode, Status: resp.Status}
	if e.Status == "" {
		e.Status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	if resp.Request != nil {
		e.URL = redactURL(resp.Request.URL)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// A day is far more than any server means; the cap keeps the
		// multiplication from overflowing.
		return time.Duration(min(secs, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// redactURL returns u as scheme://host/path, without userinfo, query and
// fragment, which may carry credentials or signed tokens.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// redactRaw is redactURL for a URL string; an unparsable string is replaced
// entirely, since it cannot be shortened safely.
func redactRaw(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	return redactURL(u)
}

// localError marks a failure of the local disk or file system, which a
// segment retry cannot fix. It unwraps to the cause (e.g. a *fs.PathError
// wrapping syscall.ENOSPC).
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// TooLargeError is returned when the file is larger than Request.MaxSize.
// A size the server declared is refused before anything is written or
// reserved; a body of unknown length is cut when it passes the limit and the
// bytes received are deleted. Retrying cannot help.
type TooLargeError struct {
	// Size is the declared size, or -1 when the server did not say and the
	// body ran past the limit.
	Size int64
	// Limit is Request.MaxSize.
	Limit int64
}

// Error implements error.
func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("the body of unknown length ran past the limit of %d bytes", e.Limit)
	}
	return fmt.Sprintf("the file is %d bytes, more than the limit of %d bytes", e.Size, e.Limit)
}

// NoRoomError is returned when the declared size does not fit on the disk:
// the file would take more than the free space minus Options.MinFreeDisk.
// It is checked before any space is reserved, so one oversized download
// cannot push other downloads into ENOSPC.
type NoRoomError struct {
	// Size is the declared size of the file.
	Size int64
	// Free is the space available for it: the file system's free space plus
	// what an earlier attempt at the same file already holds.
	Free int64
	// Floor is Options.MinFreeDisk.
	Floor int64
}

// Error implements error.
func (e *NoRoomError) Error() string {
	return fmt.Sprintf("the file is %d bytes, but %d bytes are free and %d must stay free", e.Size, e.Free, e.Floor)
}

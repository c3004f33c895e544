package supervision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/board"
	"github.com/mirrorleech/mirrorleech/internal/httpdl"
	"github.com/mirrorleech/mirrorleech/internal/netguard"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
)

// UserError is a permanent error whose text is written for the user.
type UserError struct {
	Msg string
	Err error
}

// NewUserError returns a permanent error that reads msg to the user.
func NewUserError(msg string) error { return &UserError{Msg: msg} }

func (e *UserError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *UserError) Unwrap() error { return e.Err }

// Classify says what can be done about err and, for rate limits, how long to
// wait at least.
func Classify(err error) (Class, time.Duration) {
	if err == nil {
		return Transient, 0
	}
	var (
		ue      *UserError
		blocked *netguard.BlockedError
		invalid *netguard.InvalidURLError
		status  *httpdl.StatusError
		apiErr  *tgapi.APIError
		trErr   *tgapi.TransportError
		failure *Failure
		netErr  net.Error
		tooBig  *httpdl.TooLargeError
		noRoom  *httpdl.NoRoomError
	)
	switch {
	case errors.As(err, &failure):
		return failure.Class, failure.RetryAfter
	case errors.Is(err, context.Canceled):
		return Cancelled, 0
	case errors.As(err, &ue), errors.As(err, &blocked), errors.As(err, &invalid):
		return Permanent, 0
	case errors.As(err, &tooBig), errors.As(err, &noRoom):
		return Permanent, 0
	// Refusals of the local file system (full, read-only, not permitted, a
	// name longer than it can hold) stay on every attempt.
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.ENAMETOOLONG):
		return Permanent, 0
	// The engine already started over once from byte 0 when the file
	// changed; it changed again, so another attempt would only repeat that.
	case errors.Is(err, httpdl.ErrRemoteChanged):
		return Permanent, 0
	case errors.Is(err, tgapi.ErrTooLarge), errors.Is(err, tgapi.ErrFileTooBig), errors.Is(err, httpdl.ErrBadResponse):
		return Permanent, 0
	// TORRENT_STALL_TIMEOUT already is the patience for a torrent without
	// peers: retrying would multiply it, so a stall ends the task.
	case errors.Is(err, torrent.ErrBadTorrent), errors.Is(err, torrent.ErrStalled),
		errors.Is(err, torrent.ErrNothingSelected), errors.Is(err, torrent.ErrDuplicate):
		return Permanent, 0
	case errors.Is(err, torrent.ErrClosed):
		return Transient, 0
	case errors.As(err, &status):
		return classifyHTTP(status.Code, status.RetryAfter)
	case errors.As(err, &apiErr):
		if apiErr.Code == http.StatusTooManyRequests || apiErr.RetryAfter > 0 {
			return RateLimited, apiErr.RetryAfter
		}
		return classifyHTTP(apiErr.Code, 0)
	case errors.As(err, &trErr):
		return Transient, 0
	case errors.Is(err, httpdl.ErrSizeMismatch), errors.Is(err, httpdl.ErrStalled):
		return Transient, 0
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Transient, 0
	case errors.As(err, &netErr):
		return Transient, 0
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return Permanent, 0
	}
	// Unknown errors get the bounded retries: giving up on the first odd
	// error would be worse than a few wasted attempts.
	return Transient, 0
}

func classifyHTTP(code int, after time.Duration) (Class, time.Duration) {
	switch {
	case code == http.StatusTooManyRequests:
		return RateLimited, after
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code >= 500:
		return Transient, after
	case code >= 400:
		return Permanent, 0
	}
	return Transient, 0
}

// Explain returns err in plain words for the user. It never returns the raw
// error text of an unknown error, which may hold paths or URLs with secrets.
func Explain(err error) string {
	var (
		ue      *UserError
		blocked *netguard.BlockedError
		invalid *netguard.InvalidURLError
		status  *httpdl.StatusError
		apiErr  *tgapi.APIError
		failure *Failure
		dnsErr  *net.DNSError
		tooBig  *httpdl.TooLargeError
		noRoom  *httpdl.NoRoomError
	)
	switch {
	case err == nil:
		return "unknown error"
	case errors.As(err, &failure):
		return failure.Reason
	case errors.As(err, &ue):
		return ue.Msg
	case errors.As(err, &tooBig):
		if tooBig.Size < 0 {
			return fmt.Sprintf("the file is larger than the %s this bot accepts",
				board.Bytes(tooBig.Limit))
		}
		return fmt.Sprintf("the file is %s, larger than the %s this bot accepts", board.Bytes(tooBig.Size), board.Bytes(tooBig.Limit))
	case errors.As(err, &noRoom):
		if noRoom.Floor > 0 {
			return fmt.Sprintf("the file is %s, but the bot's disk has %s free and keeps %s of it free",
				board.Bytes(noRoom.Size), board.Bytes(noRoom.Free), board.Bytes(noRoom.Floor))
		}
		return fmt.Sprintf("the file is %s, but the bot's disk has only %s free", board.Bytes(noRoom.Size), board.Bytes(noRoom.Free))
	case errors.Is(err, syscall.ENAMETOOLONG):
		return "the file name is too long for the bot's file system"
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &invalid):
		return invalid.Error()
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the bot's disk is full"
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "the bot may not write to its destination (permission denied)"
	case errors.Is(err, tgapi.ErrFileTooBig), errors.Is(err, tgapi.ErrTooLarge):
		return unwrapText(err, tgapi.ErrFileTooBig, tgapi.ErrTooLarge)
	case errors.Is(err, torrent.ErrStalled):
		// The engine's detail ("no peers sent any data for 10m0s") follows
		// the sentinel and holds no user data.
		return fromSentinel(err, torrent.ErrStalled)
	case errors.Is(err, torrent.ErrBadTorrent), errors.Is(err, torrent.ErrNothingSelected),
		errors.Is(err, torrent.ErrDuplicate), errors.Is(err, torrent.ErrClosed):
		// The parser's detail may quote the link (trackers carry passkeys).
		return unwrapText(err, torrent.ErrBadTorrent, torrent.ErrNothingSelected, torrent.ErrDuplicate, torrent.ErrClosed)
	case errors.As(err, &status):
		return explainHTTP(status.Code)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("Telegram refused the request: %s", apiErr.Description)
	case errors.Is(err, httpdl.ErrRemoteChanged):
		return "the file changed on the server while it was being downloaded, also after starting over"
	case errors.Is(err, httpdl.ErrSizeMismatch):
		return "the server sent a different amount of data than it announced"
	case errors.Is(err, httpdl.ErrStalled):
		return "the download stalled: no data arrived for too long"
	case errors.Is(err, httpdl.ErrBadResponse):
		return "the server answered a range request incorrectly"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host %q could not be found", dnsErr.Name)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "the connection timed out"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the server refused the connection"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return "the connection was dropped"
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		if netErr.Timeout() {
			return "the connection timed out"
		}
		return "a network error occurred"
	}
	return "an unexpected error occurred"
}

// unwrapText returns the text of the sentinel found in err: those sentinels
// are written for users.
func unwrapText(err error, sentinels ...error) string {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return err.Error()
}

// fromSentinel returns err's text from sentinel's own text on, dropping the
// callers' context before it ("downloading the torrent: ").
func fromSentinel(err, sentinel error) string {
	text := err.Error()
	if i := strings.Index(text, sentinel.Error()); i >= 0 {
		return text[i:]
	}
	return sentinel.Error()
}

func explainHTTP(code int) string {
	switch code {
	case http.StatusNotFound, http.StatusGone:
		return fmt.Sprintf("the file does not exist on the server (HTTP %d)", code)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("the server refused access to the file (HTTP %d)", code)
	case http.StatusTooManyRequests:
		return "the server is rate limiting downloads (HTTP 429)"
	}
	if code >= 500 {
		return fmt.Sprintf("the server failed (HTTP %d)", code)
	}
	return fmt.Sprintf("the server answered HTTP %d", code)
}

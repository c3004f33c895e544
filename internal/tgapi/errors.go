package tgapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	ta "github.com/mymmrac/telego/telegoapi"
)

// ErrTooLarge is returned by SendDocument, before anything is sent, when the
// part is larger than the Bot API server accepts. Its text is safe to show to
// users.
var ErrTooLarge = errors.New("the file is larger than Telegram lets this bot upload " +
	"(50 MB through the cloud Bot API, 2000 MiB through a local telegram-bot-api server); it must be split into smaller parts")

// ErrFileTooBig is returned by GetFile when the cloud Bot API refuses to hand
// out a file because it is larger than 20 MB. Its text is safe to show to
// users.
var ErrFileTooBig = errors.New("the file is larger than 20 MB, the most a bot may download through the cloud " +
	"Telegram Bot API; running a local telegram-bot-api server (--local) lifts this limit")

// ErrMaybeDelivered marks a SendDocument that failed after its whole body
// had been sent, with an error that does not say Telegram refused it (a 5xx,
// a dropped connection, a timeout). The Bot API server may have posted the
// document before the failure, and nothing in the Bot API lets a client ask
// whether it did, so the retry that follows can post it a second time. It is
// found with errors.Is on SendDocument's error, which stays transient.
var ErrMaybeDelivered = errors.New("telegram may have posted the document before the failure")

// defaultRetryAfter is the wait assumed for a 429 that names no wait at all:
// retrying too early extends Telegram's ban, so guess on the safe side.
const defaultRetryAfter = 5 * time.Second

// retryAfterText finds the wait in descriptions such as "Too Many Requests:
// retry after 3", also inside the 400 that media groups return on flood
// control ("failed to send message #1 with the error message \"Too Many
// Requests: retry after 8\"").
var retryAfterText = regexp.MustCompile(`(?i)retry after (\d+)`)

// APIError is an answer of the Bot API with "ok": false.
type APIError struct {
	// Method is the Bot API method that failed, e.g. "sendMessage".
	Method string
	// Code is the error_code, equal to the HTTP status.
	Code int
	// Description is Telegram's text, e.g. "Bad Request: chat not found".
	Description string
	// RetryAfter is the flood-control wait; zero when Telegram named none.
	RetryAfter time.Duration
	// MigrateTo is the new supergroup ID when a group was migrated.
	MigrateTo int64
}

// Error implements error.
func (e *APIError) Error() string {
	s := fmt.Sprintf("telegram %s: %d %s", e.Method, e.Code, e.Description)
	if e.RetryAfter > 0 && !retryAfterText.MatchString(e.Description) {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.MigrateTo != 0 {
		s += fmt.Sprintf(" (migrated to chat %d)", e.MigrateTo)
	}
	return s
}

// newAPIError converts telego's error, redacting the description (Telegram
// does not echo the token, but a proxy in between might) and filling
// RetryAfter from the description when the parameters lack it.
func newAPIError(method string, e *ta.Error, token string) *APIError {
	out := &APIError{Method: method, Code: e.ErrorCode, Description: Redact(e.Description, token)}
	if p := e.Parameters; p != nil {
		out.RetryAfter = time.Duration(p.RetryAfter) * time.Second
		out.MigrateTo = p.MigrateToChatID
	}
	if out.RetryAfter == 0 {
		if m := retryAfterText.FindStringSubmatch(out.Description); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				out.RetryAfter = time.Duration(n) * time.Second
			}
		}
	}
	if out.RetryAfter == 0 && out.Code == 429 {
		out.RetryAfter = defaultRetryAfter
	}
	return out
}

// TransportError is a call that got no usable Bot API answer: a network
// error, a timeout, a 5xx status or a response that is not the Bot API
// envelope.
type TransportError struct {
	// Method is the Bot API method ("download" for file downloads).
	Method string
	// Err is the cause, free of the token; context, net.Error and syscall
	// errors are reachable through it with errors.Is and errors.As.
	Err error
	// Status is the HTTP status when there was one (e.g. 500), else zero.
	Status int
}

// Error implements error.
func (e *TransportError) Error() string {
	switch {
	case e.Status > 0 && e.Err != nil:
		return fmt.Sprintf("telegram %s: HTTP %d: %v", e.Method, e.Status, e.Err)
	case e.Status > 0:
		return fmt.Sprintf("telegram %s: HTTP %d", e.Method, e.Status)
	case e.Err != nil:
		return fmt.Sprintf("telegram %s: %v", e.Method, e.Err)
	}
	return fmt.Sprintf("telegram %s: transport error", e.Method)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// redactedError carries an error whose own text may hold the token under a
// redacted text, keeping the cause reachable.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// callError marks an error of the HTTP layer (see caller), so that wrap can
// tell transport failures from telego's own errors.
type callError struct {
	status int
	msg    string // err's text, redacted
	err    error
}

func (e *callError) Error() string { return e.msg }
func (e *callError) Unwrap() error { return e.err }

// Redact replaces every occurrence of token in s, and of its secret part
// after the colon, with "<redacted>".
func Redact(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "<redacted>")
	if _, secret, ok := strings.Cut(token, ":"); ok && len(secret) >= 8 {
		s = strings.ReplaceAll(s, secret, "<redacted>")
	}
	if esc := url.PathEscape(token); esc != token {
		s = strings.ReplaceAll(s, esc, "<redacted>")
	}
	return s
}

// redactURLs removes the token from every *url.Error in err's chain. The
// URLs are rewritten in place: the errors were created for this call only.
func redactURLs(err error, token string) {
	for err != nil {
		if ue, ok := err.(*url.Error); ok {
			ue.URL = Redact(ue.URL, token)
		}
		err = errors.Unwrap(err)
	}
}

// RetryAfter reports the flood-control wait carried by err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.RetryAfter > 0 {
			return ae.RetryAfter, true
		}
		if ae.Code == 429 {
			return defaultRetryAfter, true
		}
	}
	return 0, false
}

// IsTransient reports whether the same call may succeed later: network
// errors, timeouts, 5xx answers and flood control (see RetryAfter). A
// cancelled context is not transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code == 429 || ae.RetryAfter > 0 || ae.Code >= 500
	}
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsNotModified reports Telegram's 400 "message is not modified", which an
// edit to the same text and keyboard returns.
func IsNotModified(err error) bool {
	return hasDescription(err, "message is not modified")
}

// IsMessageGone reports that the target message of an edit or delete does
// not exist any more or may not be changed: the caller should forget it.
func IsMessageGone(err error) bool {
	return hasDescription(err,
		"message to edit not found",
		"message to delete not found",
		"message can't be edited",
		"message can't be deleted",
		"message_id_invalid",
	)
}

// hasDescription reports whether err is a 400 APIError whose description
// contains one of the phrases, ignoring case.
func hasDescription(err error, phrases ...string) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 400 {
		return false
	}
	d := strings.ToLower(ae.Description)
	for _, p := range phrases {
		if strings.Contains(d, p) {
			return true
		}
	}
	return false
}

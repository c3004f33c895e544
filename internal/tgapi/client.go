package tgapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mymmrac/telego"
	ta "github.com/mymmrac/telego/telegoapi"
)

// DefaultAPIURL is the cloud Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Upload limits of the Bot API servers (see MaxUploadSize).
const (
	// CloudMaxUpload is the cloud Bot API's multipart upload limit.
	CloudMaxUpload int64 = 50_000_000
	// LocalMaxUpload is a local telegram-bot-api server's limit (td's
	// HttpReader MAX_FILE_SIZE).
	LocalMaxUpload int64 = 2000 << 20
)

const (
	// callTimeout bounds every JSON call. Uploads, local getFile (which
	// answers only after the server has fetched the whole file) and
	// downloads get no fixed deadline: their callers watch progress.
	callTimeout = 30 * time.Second
	// pollGrace is added to the long-poll timeout for getUpdates' deadline.
	pollGrace = 10 * time.Second
	// maxPollTimeout is the Bot API's clamp of getUpdates' timeout.
	maxPollTimeout = 50 * time.Second
	// maxResponse caps a Bot API response read into memory; 100 updates
	// stay far below it.
	maxResponse = 32 << 20
	// progressEvery spaces progress callbacks (at most 4 per second).
	progressEvery = 250 * time.Millisecond
)

// Options configure a Client.
type Options struct {
	// Token is the bot token ("123456:ABC…").
	Token string
	// APIURL is the Bot API server; empty means DefaultAPIURL.
	APIURL string
	// Local says the server is a telegram-bot-api started with --local:
	// getFile returns absolute paths that the bot reads directly, and
	// uploads may be up to 2000 MiB.
	Local bool
	// Transport carries the requests; nil means a dedicated HTTP/1.1
	// *http.Transport. No client-wide timeout is set in either case.
	Transport http.RoundTripper
	// Logger receives telego's debug output, token redacted; nil discards.
	Logger *slog.Logger
}

// Client calls the Bot API. It is safe for concurrent use.
type Client struct {
	bot    *telego.Bot
	hc     *http.Client
	owned  bool // hc's transport was created by New
	token  string
	apiURL string
	local  bool
	log    *slog.Logger
}

// New returns a client for o. It makes no request.
func New(o Options) (*Client, error) {
	if o.Token == "" {
		return nil, errors.New("creating the telegram client: empty bot token")
	}
	apiURL := strings.TrimRight(o.APIURL, "/")
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{token: o.Token, apiURL: apiURL, local: o.Local, log: log}
	t := o.Transport
	if t == nil {
		t = DefaultTransport()
		c.owned = true
	}
	// No Timeout: it would cap uploads, which may take many minutes.
	c.hc = &http.Client{Transport: t}
	bot, err := telego.NewBot(o.Token,
		telego.WithAPIServer(apiURL),
		// A net/http caller (like telego.WithHTTPClient) that redacts the
		// token from errors at the source and reports HTTP statuses.
		telego.WithAPICaller(&caller{hc: c.hc, token: o.Token}),
		telego.WithLogger(&telegoLogger{log: log, token: o.Token}),
	)
	if err != nil {
		// telego's token errors do not quote the token.
		return nil, fmt.Errorf("creating the telegram client: %w", err)
	}
	c.bot = bot
	return c, nil
}

// DefaultTransport returns the default transport: the standard dialer and proxy
// settings, more idle connections per host (polling, messages and uploads
// run side by side) and HTTP/1.1, so that each upload has its own
// connection instead of sharing one HTTP/2 flow-control window.
func DefaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = false
	t.MaxIdleConnsPerHost = 16
	return t
}

// Close releases idle connections of the transport New created. The client
// stays usable; a transport passed in Options is left alone.
func (c *Client) Close() {
	if c.owned {
		c.hc.CloseIdleConnections()
	}
}

// MaxUploadSize is the largest document SendDocument accepts: 50,000,000
// bytes for the cloud Bot API, 2000 MiB for a local server.
func (c *Client) MaxUploadSize() int64 {
	if c.local {
		return LocalMaxUpload
	}
	return CloudMaxUpload
}

// wrap turns an error of telego into this package's types, free of the
// token.
func (c *Client) wrap(method string, err error) error {
	if err == nil {
		return nil
	}
	var te *ta.Error
	if errors.As(err, &te) {
		return newAPIError(method, te, c.token)
	}
	var ce *callError
	if errors.As(err, &ce) {
		return &TransportError{Method: method, Err: ce.err, Status: ce.status}
	}
	return &redactedError{msg: "telegram " + method + ": " + Redact(err.Error(), c.token), err: err}
}

// caller is telego's ta.Caller over net/http. It differs from ta.HTTPCaller
// in what it reports: errors carry the HTTP status and no token, non-JSON
// 4xx answers become API errors, and a getUpdates result is kept raw for
// the fallback decoder (see rawSink).
type caller struct {
	hc    *http.Client
	token string
}

// rawSink, put into a call's context, receives the raw "result" of a
// successful answer.
type rawSink struct{ raw json.RawMessage }

type rawSinkKey struct{}

// Call implements ta.Caller.
func (c *caller) Call(ctx context.Context, u string, data *ta.RequestData) (*ta.Response, error) {
	var body io.Reader
	switch {
	case data.BodyRaw != nil:
		body = bytes.NewReader(data.BodyRaw)
	case data.BodyStream != nil:
		body = data.BodyStream
	default:
		return nil, c.fail(0, errors.New("no request body"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, body)
	if err != nil {
		return nil, c.fail(0, fmt.Errorf("building the request: %w", err))
	}
	req.Header.Set(ta.ContentTypeHeader, data.ContentType)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.fail(0, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, c.fail(resp.StatusCode, fmt.Errorf("reading the response: %w", err))
	}
	if len(raw) > maxResponse {
		return nil, c.fail(resp.StatusCode, fmt.Errorf("response larger than %d bytes", maxResponse))
	}
	if resp.StatusCode >= http.StatusInternalServerError {
		return nil, c.fail(resp.StatusCode, fmt.Errorf("internal server error: %d", resp.StatusCode))
	}
	out := &ta.Response{}
	if err := json.Unmarshal(raw, out); err != nil || (!out.Ok && out.Error == nil) {
		if resp.StatusCode >= 400 {
			// A front end's HTML error page (an old cloud 413, a proxy's
			// 404) is still a refusal, not a network failure.
			return &ta.Response{Error: &ta.Error{ErrorCode: resp.StatusCode, Description: http.StatusText(resp.StatusCode),
				Parameters: headerRetryAfter(resp.Header)}}, nil
		}
		if err == nil {
			err = errors.New("ok is false without an error")
		}
		return nil, c.fail(resp.StatusCode, fmt.Errorf("decoding the response: %w", err))
	}
	if !out.Ok && out.ErrorCode == http.StatusTooManyRequests && (out.Parameters == nil || out.Parameters.RetryAfter == 0) {
		if p := headerRetryAfter(resp.Header); p != nil {
			out.Parameters = p
		}
	}
	if sink, ok := ctx.Value(rawSinkKey{}).(*rawSink); ok && out.Ok {
		sink.raw = out.Result
	}
	return out, nil
}

// fail wraps an HTTP-layer error after removing the token from it.
func (c *caller) fail(status int, err error) error {
	redactURLs(err, c.token)
	return &callError{status: status, msg: Redact(err.Error(), c.token), err: err}
}

// headerRetryAfter reads a Retry-After header given in seconds.
func headerRetryAfter(h http.Header) *ta.ResponseParameters {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || n <= 0 {
		return nil
	}
	return &ta.ResponseParameters{RetryAfter: n}
}

// telegoLogger sends telego's log lines to slog at debug level, token
// redacted. Errors are logged at debug level too: they are returned to the
// caller, who decides whether they deserve a warning.
type telegoLogger struct {
	log   *slog.Logger
	token string
}

func (l *telegoLogger) Debugf(format string, args ...any) { l.emit(format, args) }
func (l *telegoLogger) Errorf(format string, args ...any) { l.emit(format, args) }

func (l *telegoLogger) emit(format string, args []any) {
	// Formatting a getUpdates response is not free: skip it when unused.
	if !l.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	l.log.Debug(Redact(fmt.Sprintf(format, args...), l.token), slog.String("lib", "telego"))
}

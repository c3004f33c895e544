package httpdl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options; a zero field takes its default.
const (
	DefaultConnections    = 8
	DefaultSegmentSize    = 8 << 20
	DefaultSegmentRetries = 5
	DefaultStallTimeout   = 60 * time.Second
)

// Bounds and cadences that are not worth an option.
const (
	// maxConnections bounds Options.Connections; more connections to one
	// host only invite throttling, and aria2 stops at 16.
	maxConnections = 64
	// minSegmentSize bounds Options.SegmentSize from below, so that the
	// per-request overhead stays small against the bytes moved.
	minSegmentSize = 16 << 10
	// bufSize is the per-connection copy buffer: large enough that one
	// pwrite moves many socket reads, small enough to stay cheap per
	// connection.
	bufSize = 256 << 10
	// flushEvery bounds how long received bytes wait in the buffer on a slow
	// connection, so that progress and resume points stay current.
	flushEvery = 250 * time.Millisecond
	// writebackEvery is how many bytes one connection writes before it
	// starts their writeback (see startWriteback): large enough for big
	// sequential device writes, small enough that the final datasync finds
	// little dirty data.
	writebackEvery = 8 << 20
	// progressEvery is the cadence of Progress calls.
	progressEvery = 250 * time.Millisecond
	// saveEvery is the cadence of control file saves.
	saveEvery = time.Second
	// baseBackoff and maxBackoff shape the delay between segment retries.
	baseBackoff = 200 * time.Millisecond
	maxBackoff  = 5 * time.Second
	// maxRetryAfter is the longest Retry-After waited for inside a call; a
	// longer one is returned to the caller, who can schedule the retry
	// without holding a worker.
	maxRetryAfter = 30 * time.Second
)

// Options configures a Downloader. The zero value is usable.
type Options struct {
	// Connections is the number of parallel connections of a ranged
	// download. Default: 8; at most 64.
	Connections int
	// SegmentSize is the unit of work of a ranged download: one request per
	// segment, and the granularity of the control file's done bitmap.
	// Default: 8 MiB; at least 16 KiB. A resumed download keeps the segment
	// size it started with.
	SegmentSize int64
	// Client sends every request. In production the caller passes one whose
	// Transport enforces the network guard. Nil means a client with
	// DefaultTransport's settings: no compression, HTTP/1.1 only (parallel
	// segments need separate TCP connections), no overall timeout (a large
	// download takes as long as it takes; stalls are detected separately).
	Client *http.Client
	// UserAgent is sent with every request. Default: "mirrorleech/<version>".
	UserAgent string
	// SegmentRetries is how often one segment is retried inside one Download
	// call after a transient failure, each time from the bytes already
	// written, after 200 ms << attempt (at most 5 s). Default: 5; negative
	// means no retries. Retrying the whole call is the caller's business.
	SegmentRetries int
	// StallTimeout aborts a request attempt when no response headers or body
	// bytes arrived for this long. Default: 60 s.
	StallTimeout time.Duration
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
	// MinFreeDisk is the free space, in bytes, that must remain on the
	// download directory's file system after a download's declared size is
	// reserved; a file that does not fit fails with *NoRoomError before
	// anything is reserved. 0 only requires that the file fits.
	MinFreeDisk int64
}

// DefaultTransport returns a new transport with the settings the engine
// needs: compression off (else Go asks for gzip and ranges would address the
// compressed bytes), HTTP/2 off (an empty TLSNextProto map; over HTTP/2 all
// segments would share one TCP connection), enough idle connections per host
// for the segments, and a bound on the wait for response headers.
func DefaultTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		DisableCompression:    true,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost:   maxConnections,
		ResponseHeaderTimeout: 30 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		IdleConnTimeout:       90 * time.Second,
	}
}

// Downloader downloads files over HTTP(S). It is safe for concurrent use by
// several Download calls, as long as they use different directories or
// names.
type Downloader struct {
	o      Options
	client *http.Client
	log    *slog.Logger
	// bufs holds *[]byte copy buffers of bufSize, shared by connections.
	bufs sync.Pool
}

// New returns a Downloader with o's zero fields set to their defaults.
func New(o Options) *Downloader {
	if o.Connections <= 0 {
		o.Connections = DefaultConnections
	}
	o.Connections = min(o.Connections, maxConnections)
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	o.SegmentSize = max(o.SegmentSize, minSegmentSize)
	switch {
	case o.SegmentRetries == 0:
		o.SegmentRetries = DefaultSegmentRetries
	case o.SegmentRetries < 0:
		o.SegmentRetries = 0
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "mirrorleech/" + buildVersion()
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Transport: DefaultTransport()}
	}
	d := &Downloader{o: o, client: client, log: log}
	d.bufs.New = func() any {
		b := make([]byte, bufSize)
		return &b
	}
	return d
}

// buildVersion returns the main module's version as stamped by the Go
// toolchain, or "dev".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Request describes one download.
type Request struct {
	// URL is the http or https URL to fetch.
	URL string
	// Dir is the task's working directory; it is created if missing. The
	// .part file and the control file live there too.
	Dir string
	// Name overrides the output file name. Empty means the name from
	// Content-Disposition (RFC 5987 filename* wins), else the unescaped last
	// path segment of the final URL, else "download". Every name passes
	// through SanitizeName.
	Name string
	// Progress, when set, is called about four times a second and once at
	// the end, from a goroutine of the download. It must return quickly.
	Progress func(Progress)
	// MaxSize is the largest file accepted, in bytes (0 = no limit). A
	// larger declared size fails with *TooLargeError before any disk space
	// is reserved; a body of unknown length fails with it as soon as it
	// passes the limit, and what it wrote is deleted.
	MaxSize int64
}

// Progress is a snapshot of a running download.
type Progress struct {
	// Name is the output file name.
	Name string
	// Done counts the bytes on disk, including those reused by a resume.
	Done int64
	// Total is the file size, or -1 when the server did not say.
	Total int64
	// Connections is the number of requests in flight.
	Connections int
}

// Result describes a completed download.
type Result struct {
	// Path is the complete file, Dir joined with Name.
	Path string
	// Name is the output file name.
	Name string
	// Size is the file size in bytes.
	Size int64
	// Resumed counts the bytes reused from an earlier, interrupted call.
	Resumed int64
}

// Download fetches r.URL into r.Dir and returns the complete file. While it
// runs, the data lives in a .part file; the final name appears only when the
// file is complete and fsynced. An interrupted ranged download leaves the
// .part file and a control file behind, and the next call for the same URL
// and directory continues from them if the remote file is unchanged. See the
// package documentation for the errors.
func (d *Downloader) Download(ctx context.Context, r Request) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("downloading: %w", err)
	}
	if r.URL == "" || r.Dir == "" {
		return Result{}, errors.New("downloading: request needs a url and a directory")
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return Result{}, &localError{fmt.Errorf("creating download directory: %w", err)}
	}
	// A file that changes under the download (ErrRemoteChanged) is
	// downloaded once more from byte 0 under a fresh probe; a second change
	// is returned, since a file that keeps changing cannot be mirrored.
	var changed error
	for {
		res, name, err := d.once(ctx, r)
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, ErrRemoteChanged) && changed == nil && ctx.Err() == nil:
			changed = err
			d.log.Info("remote file changed, starting over", "url", redactRaw(r.URL), "name", name, "err", err)
			continue
		case name == "":
			return Result{}, fmt.Errorf("downloading %s: %w", redactRaw(r.URL), err)
		}
		return Result{}, fmt.Errorf("downloading %s: %w", name, err)
	}
}

// once probes r.URL, admits the declared size and runs one ranged or
// single-stream download. name is "" when the probe failed.
func (d *Downloader) once(ctx context.Context, r Request) (Result, string, error) {
	p, err := d.probe(ctx, r.URL)
	if err != nil {
		return Result{}, "", err
	}
	name := chooseName(r.Name, p.cdName, p.urlName)
	log := d.log.With("url", redactRaw(r.URL), "name", name)
	log.Debug("probed", "ranged", p.ranged, "size", p.remote.size, "etag", p.remote.etag != "",
		"last_modified", p.remote.lastModified != "")
	if err := d.admit(r, name, p.remote.size); err != nil {
		p.close()
		return Result{}, name, err
	}

	var res Result
	switch {
	case p.ranged && p.remote.size > 0:
		res, err = d.ranged(ctx, r, name, p, log)
	default:
		res, err = d.single(ctx, r, name, p, log)
	}
	return res, name, err
}

// admit checks a declared size (-1 = unknown) against Request.MaxSize and
// the free disk space before anything is created or reserved: a server
// that declares a huge file must be refused for its size, not fill the
// disk first and fail with ENOSPC (possibly in other downloads).
func (d *Downloader) admit(r Request, name string, size int64) error {
	if size <= 0 {
		return nil
	}
	if r.MaxSize > 0 && size > r.MaxSize {
		return &TooLargeError{Size: size, Limit: r.MaxSize}
	}
	room, ok := diskRoom(r.Dir, filepath.Join(r.Dir, partName(name)))
	if ok && size > room-d.o.MinFreeDisk {
		return &NoRoomError{Size: size, Free: room, Floor: d.o.MinFreeDisk}
	}
	return nil
}

// chooseName picks the output name: the override, else the first source
// that sanitizes to something usable, else the fallback.
func chooseName(override string, sources ...string) string {
	if override != "" {
		return SanitizeName(override)
	}
	for _, s := range sources {
		if n := sanitize(s); n != "" {
			return n
		}
	}
	return fallbackName
}

// probeResult is what the probe learned about the remote file.
type probeResult struct {
	finalURL string // URL after redirects
	remote   remote
	// ranged is true when the server honours byte ranges and said the size.
	ranged bool
	cdName string // name from Content-Disposition, unsanitized
	// urlName is the last path segment of the final URL, unsanitized.
	urlName string
	// resp and att are set when the server answered the probe with the
	// whole body (200); the body is the download, att its stall guard.
	// The receiver must close resp.Body and end att.
	resp *http.Response
	att  *attempt
}

// close releases an unused probe response.
func (p *probeResult) close() {
	if p.resp != nil {
		_ = p.resp.Body.Close()
		p.resp = nil
	}
	if p.att != nil {
		p.att.end()
		p.att = nil
	}
}

// probe asks for the first byte. 206 with a total in Content-Range means
// ranges work and gives the size; 200 means the range was ignored and the
// body is the whole file. A HEAD request is not used: CDNs answer it
// differently from GET.
func (d *Downloader) probe(ctx context.Context, rawURL string) (*probeResult, error) {
	a := d.newAttempt(ctx)
	req, err := d.newRequest(a.ctx, rawURL)
	if err != nil {
		a.end()
		return nil, err
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := d.client.Do(req)
	if err != nil {
		err = a.wrap(unwrapURLError(err))
		a.end()
		return nil, fmt.Errorf("probing: %w", err)
	}
	p := &probeResult{
		finalURL: resp.Request.URL.String(),
		cdName:   nameFromContentDisposition(resp.Header.Get("Content-Disposition")),
		urlName:  nameFromURL(resp.Request.URL),
		remote:   remoteOf(resp),
	}
	switch resp.StatusCode {
	case http.StatusOK:
		p.remote.size = resp.ContentLength
		p.resp, p.att = resp, a
		return p, nil
	case http.StatusPartialContent:
		defer a.end()
		defer drainClose(resp.Body)
		start, _, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != 0 {
			return nil, fmt.Errorf("probing: content-range %q: %w", resp.Header.Get("Content-Range"), ErrBadResponse)
		}
		if total < 0 {
			// Ranges work but the size is unknown, so they cannot be
			// planned: fetch the whole body in one stream instead.
			return d.probeWhole(ctx, p)
		}
		p.remote.size = total
		p.ranged = true
		return p, nil
	case http.StatusRequestedRangeNotSatisfiable:
		defer a.end()
		defer drainClose(resp.Body)
		if cr := resp.Header.Get("Content-Range"); cr == "bytes */0" {
			// An empty file: no byte 0 to ask for.
			p.remote.size = 0
			return p, nil
		}
		return nil, fmt.Errorf("probing: %w", newStatusError(resp, time.Now()))
	default:
		defer a.end()
		defer drainClose(resp.Body)
		return nil, fmt.Errorf("probing: %w", newStatusError(resp, time.Now()))
	}
}

// probeWhole re-requests the final URL without a range, for servers that
// do ranges without telling the size, and returns p in single-stream form.
func (d *Downloader) probeWhole(ctx context.Context, p *probeResult) (*probeResult, error) {
	resp, a, err := d.getWhole(ctx, p.finalURL)
	if err != nil {
		return nil, fmt.Errorf("probing: %w", err)
	}
	p.remote.size = resp.ContentLength
	p.resp, p.att = resp, a
	return p, nil
}

// getWhole sends a plain GET and returns the 200 response and its stall
// guard, which the caller must end.
func (d *Downloader) getWhole(ctx context.Context, rawURL string) (*http.Response, *attempt, error) {
	a := d.newAttempt(ctx)
	req, err := d.newRequest(a.ctx, rawURL)
	if err != nil {
		a.end()
		return nil, nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		err = a.wrap(unwrapURLError(err))
		a.end()
		return nil, nil, fmt.Errorf("requesting: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		drainClose(resp.Body)
		a.end()
		return nil, nil, newStatusError(resp, time.Now())
	}
	return resp, a, nil
}

// newRequest builds a GET with the headers every request carries.
// Accept-Encoding: identity keeps any transport from negotiating
// compression, even a caller's that did not disable it.
func (d *Downloader) newRequest(ctx context.Context, rawURL string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("building request for %s: %w", redactRaw(rawURL), unwrapURLError(err))
	}
	req.Header.Set("User-Agent", d.o.UserAgent)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "identity")
	return req, nil
}

// remoteOf reads the validators of a response. Weak ETags are dropped: a
// weak match does not promise identical bytes, and servers must ignore
// them in If-Range.
func remoteOf(resp *http.Response) remote {
	r := remote{size: -1, lastModified: resp.Header.Get("Last-Modified")}
	if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		r.etag = et
	}
	return r
}

// parseContentRange parses "bytes START-END/TOTAL"; total is -1 for "*".
func parseContentRange(v string) (start, end, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	s, e, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err error
	if start, err = strconv.ParseInt(s, 10, 64); err != nil || start < 0 {
		return 0, 0, 0, false
	}
	if end, err = strconv.ParseInt(e, 10, 64); err != nil || end < start {
		return 0, 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total <= end {
			return 0, 0, 0, false
		}
	}
	return start, end, total, true
}

// drainClose reads a little of an unwanted body so that the connection can
// be reused, then closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	_ = body.Close()
}

// unwrapURLError strips *url.Error, whose message repeats the whole URL
// (query tokens included); the cause keeps net.Error and friends reachable.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// attempt is one request with a stall guard: its context is cancelled with
// ErrStalled when alive has not been called for StallTimeout.
type attempt struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	stall  time.Duration
}

func (d *Downloader) newAttempt(parent context.Context) *attempt {
	ctx, cancel := context.WithCancelCause(parent)
	a := &attempt{parent: parent, ctx: ctx, cancel: cancel, stall: d.o.StallTimeout}
	a.timer = time.AfterFunc(a.stall, func() { cancel(ErrStalled) })
	return a
}

// alive records progress, pushing the stall deadline back.
func (a *attempt) alive() { a.timer.Reset(a.stall) }

// end releases the attempt's timer and context.
func (a *attempt) end() {
	a.timer.Stop()
	a.cancel(context.Canceled)
}

// wrap turns the error of an aborted request into the reason it was
// aborted: the caller's cancellation or a stall. Other errors pass as they
// are.
func (a *attempt) wrap(err error) error {
	if perr := a.parent.Err(); perr != nil {
		return perr
	}
	if errors.Is(context.Cause(a.ctx), ErrStalled) {
		return fmt.Errorf("%w: nothing received for %s", ErrStalled, a.stall)
	}
	return err
}

// counter is the shared progress state of one download.
type counter struct {
	done   atomic.Int64
	active atomic.Int32
}

// watch calls progress every progressEvery and save every saveEvery until
// stop is closed; either may be nil.
func watch(stop <-chan struct{}, progress, save func()) {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	lastSave := time.Now()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			if progress != nil {
				progress()
			}
			if save != nil && now.Sub(lastSave) >= saveEvery {
				save()
				lastSave = now
			}
		}
	}
}

// finish makes a complete .part file durable and gives it its final name.
func finish(f *os.File, partPath, finalPath string) error {
	if err := datasync(f); err != nil {
		_ = f.Close()
		return &localError{fmt.Errorf("syncing %s: %w", filepath.Base(partPath), err)}
	}
	if err := f.Close(); err != nil {
		return &localError{fmt.Errorf("closing %s: %w", filepath.Base(partPath), err)}
	}
	if err := os.Rename(partPath, finalPath); err != nil {
		return &localError{fmt.Errorf("renaming to %s: %w", filepath.Base(finalPath), err)}
	}
	if err := syncDir(filepath.Dir(finalPath)); err != nil {
		return &localError{err}
	}
	return nil
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is the delay before retry number n (1-based).
func backoff(n int) time.Duration {
	if n > 8 {
		return maxBackoff
	}
	return min(baseBackoff<<(n-1), maxBackoff)
}

// retryable reports whether a failed attempt may succeed when repeated:
// network errors, cut or stalled bodies and temporary statuses are; the
// caller's cancellation, a changed remote, a broken server, local disk
// errors and permanent statuses are not.
func retryable(err error) bool {
	var se *StatusError
	var le *localError
	var tl *TooLargeError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, ErrRemoteChanged), errors.Is(err, ErrBadResponse):
		return false
	case errors.As(err, &le), errors.As(err, &tl):
		return false
	case errors.As(err, &se):
		return se.Temporary()
	}
	return true
}

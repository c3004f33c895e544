package origin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// File describes one file the origin serves and how it misbehaves.
type File struct {
	// Path is the URL path, e.g. "/files/big.bin". It must start with "/".
	Path string
	// Data is the content. When nil, the content is Content(Size, Seed),
	// generated on the fly so that large files cost no memory.
	Data []byte
	// Size and Seed select generated content when Data is nil.
	Size int64
	Seed uint64
	// ContentDisposition is sent verbatim as the Content-Disposition header
	// when not empty.
	ContentDisposition string
	// ETag is the strong ETag to send. Empty means one derived from the
	// content; "-" sends none. A value without quotes is quoted.
	ETag string
	// LastModified is sent as Last-Modified and used for If-Range dates when
	// not zero.
	LastModified time.Time
	// NoRanges makes the origin ignore Range and If-Range: every GET gets
	// 200 with the full body and no Accept-Ranges header.
	NoRanges bool
	// RateLimit caps each response body at this many bytes per second
	// (0 = unlimited). With HTTP/1.1 one response at a time runs on a
	// connection, so this is a per-connection limit.
	RateLimit int64
	// DropAfter and DropTimes make the origin close the connection abruptly
	// after DropAfter body bytes, on the first DropTimes responses that would
	// send more than DropAfter bytes (0 = never). Shorter responses, such as
	// a "bytes=0-0" probe, are served normally and do not use up a drop.
	DropAfter int64
	DropTimes int
	// NoLength makes the origin ignore Range and If-Range and answer every
	// GET with 200 and the body chunked, without Content-Length: a server
	// that does not know (or say) the size.
	NoLength bool
	// Unstable makes every response a new version of the file: generated
	// content from another seed (Seed + the response's number) under a new
	// ETag, and If-Range is ignored, so ranges of different versions come
	// back as 206. It needs generated content (Data nil) and a derived
	// ETag (ETag empty).
	Unstable bool
	// RedirectTo makes the origin answer 302 Found to this path or URL.
	RedirectTo string
	// Status makes the origin answer with this status (e.g. 404, 500) and a
	// short text body instead of the content.
	Status int
}

// entry is a File prepared for serving. Only the atomics and the lazily
// computed checksum change after Add.
type entry struct {
	f         File
	size      int64
	etag      string // complete header value; "" sends none
	dropsLeft atomic.Int64
	versions  atomic.Uint64 // responses served of an Unstable file

	shaOnce sync.Once
	sha     string
}

// open returns a fresh reader of the content.
func (e *entry) open() io.ReadSeeker {
	if e.f.Data != nil {
		return bytes.NewReader(e.f.Data)
	}
	return Content(e.size, e.f.Seed)
}

// takeDrop uses up one drop if any is left.
func (e *entry) takeDrop() bool {
	for {
		n := e.dropsLeft.Load()
		if n <= 0 {
			return false
		}
		if e.dropsLeft.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// checksum returns the hex SHA-256 of the content, computed once.
func (e *entry) checksum() string {
	e.shaOnce.Do(func() {
		h := sha256.New()
		// Neither reader can fail, and hash.Hash never returns an error.
		_, _ = io.Copy(h, e.open())
		e.sha = hex.EncodeToString(h.Sum(nil))
	})
	return e.sha
}

// Origin is a fake HTTP file server on 127.0.0.1 for tests and benchmarks.
// All methods are safe for concurrent use.
type Origin struct {
	srv       *http.Server
	base      string
	serveDone chan struct{}
	closeOnce sync.Once

	served   atomic.Int64
	requests atomic.Int64

	mu     sync.Mutex
	files  map[string]*entry
	closed bool
	active sync.WaitGroup // handlers in flight; Add only under mu while !closed
}

// New starts an origin serving files and closes it when the test ends.
func New(t testing.TB, files ...File) *Origin {
	t.Helper()
	o, err := start(files)
	if err != nil {
		t.Fatalf("starting origin: %v", err)
	}
	t.Cleanup(o.Close)
	return o
}

// NewServer starts an origin serving files, for programs without a
// testing.TB (benchmark tools); the caller must Close it. It panics if it
// cannot listen on 127.0.0.1, since nothing useful can follow.
func NewServer(files ...File) *Origin {
	o, err := start(files)
	if err != nil {
		panic(fmt.Sprintf("starting origin: %v", err))
	}
	return o
}

// start listens on a random loopback port and serves in the background.
func start(files []File) (*Origin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	o := &Origin{
		base:      "http://" + ln.Addr().String(),
		serveDone: make(chan struct{}),
		files:     make(map[string]*entry),
	}
	for _, f := range files {
		o.Add(f)
	}
	o.srv = &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(o.serveDone)
		// Serve returns http.ErrServerClosed after Close; nothing else is
		// expected on a loopback listener, and there is no one to report to.
		_ = o.srv.Serve(ln)
	}()
	return o, nil
}

// URL returns the absolute URL of path on this origin.
func (o *Origin) URL(path string) string { return o.base + path }

// Add adds f, or replaces the file at f.Path, which is how a test makes "the
// remote change". Responses already running keep the old content. It panics
// when f.Path does not start with "/", a mistake in the test itself.
func (o *Origin) Add(f File) {
	if !strings.HasPrefix(f.Path, "/") {
		panic(fmt.Sprintf("origin: file path %q must start with /", f.Path))
	}
	e := &entry{f: f, size: f.Size}
	if f.Data != nil {
		e.size = int64(len(f.Data))
	} else if e.size < 0 {
		e.size = 0
	}
	switch {
	case f.ETag == "-":
	case f.ETag == "" && f.Data != nil:
		e.etag = `"` + e.checksum()[:32] + `"`
	case f.ETag == "":
		e.etag = fmt.Sprintf(`"gen-%x-%x"`, e.size, f.Seed)
	case strings.HasPrefix(f.ETag, `"`) || strings.HasPrefix(f.ETag, `W/"`):
		e.etag = f.ETag
	default:
		e.etag = `"` + f.ETag + `"`
	}
	e.dropsLeft.Store(int64(f.DropTimes))
	o.mu.Lock()
	o.files[f.Path] = e
	o.mu.Unlock()
}

// BytesServed returns the content bytes written in 200 and 206 responses of
// all requests so far, including those of dropped connections and
// multipart boundaries; redirect, error and 416 bodies are not counted.
func (o *Origin) BytesServed() int64 { return o.served.Load() }

// Requests returns the number of requests received, of any kind.
func (o *Origin) Requests() int64 { return o.requests.Load() }

// SHA256 returns the hex SHA-256 of the full content at path, or "" when no
// file is there.
func (o *Origin) SHA256(path string) string {
	e := o.lookup(path)
	if e == nil {
		return ""
	}
	return e.checksum()
}

// Close stops the server, cuts open connections and waits for the handlers
// to return. It is safe to call more than once.
func (o *Origin) Close() {
	o.closeOnce.Do(func() {
		o.mu.Lock()
		o.closed = true
		o.mu.Unlock()
		// Close (not Shutdown) cuts throttled transfers at once; their
		// request contexts end and the handlers return.
		_ = o.srv.Close()
		<-o.serveDone
		o.active.Wait()
	})
}

// lookup returns the entry at path or nil.
func (o *Origin) lookup(path string) *entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.files[path]
}

// enter registers a running handler unless the origin is closing.
func (o *Origin) enter() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.active.Add(1)
	return true
}

// ServeHTTP implements http.Handler.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	if !o.enter() {
		http.Error(w, "origin closed", http.StatusServiceUnavailable)
		return
	}
	defer o.active.Done()

	e := o.lookup(r.URL.Path)
	if e == nil {
		http.NotFound(w, r)
		return
	}
	f := &e.f
	switch {
	case f.RedirectTo != "":
		http.Redirect(w, r, f.RedirectTo, http.StatusFound)
		return
	case f.Status != 0:
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	h := w.Header()
	// A fixed type keeps ServeContent from sniffing the first 512 bytes.
	h.Set("Content-Type", "application/octet-stream")
	if f.ContentDisposition != "" {
		h.Set("Content-Disposition", f.ContentDisposition)
	}
	content := e.open()
	if f.Unstable && f.Data == nil {
		v := e.versions.Add(1)
		content = Content(e.size, f.Seed+v)
		h.Set("ETag", fmt.Sprintf(`"gen-%x-%x-v%d"`, e.size, f.Seed, v))
		r.Header.Del("If-Range")
	} else if e.etag != "" {
		h.Set("ETag", e.etag)
	}
	bw := &bodyWriter{rw: w, ctx: r.Context(), origin: o, entry: e}

	if f.NoLength {
		bw.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		// Without a Content-Length net/http sends the body chunked.
		_, _ = io.Copy(bw, content)
		return
	}
	if !f.NoRanges {
		// ServeContent implements Range, If-Range (strong ETag or date),
		// 206/416 and the conditional headers correctly.
		http.ServeContent(bw, r, "", f.LastModified, content)
		return
	}
	if !f.LastModified.IsZero() {
		h.Set("Last-Modified", f.LastModified.UTC().Format(http.TimeFormat))
	}
	h.Set("Content-Length", strconv.FormatInt(e.size, 10))
	bw.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A write error means the client went away; the handler just ends.
	_, _ = io.Copy(bw, content)
}

// bodyWriter wraps the ResponseWriter to count content bytes, throttle, and
// drop connections. It is used by one handler goroutine only.
type bodyWriter struct {
	rw     http.ResponseWriter
	ctx    context.Context
	origin *Origin
	entry  *entry

	status   int
	written  int64 // body bytes of this response
	started  time.Time
	decided  bool // whether this response is dropped has been settled
	dropping bool
}

// maxChunk bounds one write so that throttling and drops are fine-grained.
const maxChunk = 32 << 10

func (b *bodyWriter) Header() http.Header { return b.rw.Header() }

func (b *bodyWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
	b.rw.WriteHeader(code)
}

// Write writes p in chunks, pacing them to RateLimit, and aborts the
// connection when this response is one to drop.
func (b *bodyWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	if b.status != http.StatusOK && b.status != http.StatusPartialContent {
		return b.rw.Write(p)
	}
	f := &b.entry.f
	if f.DropTimes > 0 && !b.decided && b.written+int64(len(p)) > f.DropAfter {
		b.decided = true
		b.dropping = b.entry.takeDrop()
	}
	if b.dropping {
		allowed := max(f.DropAfter-b.written, 0)
		n, err := b.write(p[:allowed])
		if err != nil {
			return n, err
		}
		// Push out what was allowed, then make net/http close the
		// connection without finishing the body.
		_ = http.NewResponseController(b.rw).Flush()
		panic(http.ErrAbortHandler)
	}
	return b.write(p)
}

// write writes p in paced chunks and counts what got through.
func (b *bodyWriter) write(p []byte) (int, error) {
	rate := b.entry.f.RateLimit
	chunk := maxChunk
	if rate > 0 {
		// About 20 writes a second keeps the pace smooth at low rates.
		chunk = int(min(max(rate/20, 1), maxChunk))
	}
	total := 0
	for len(p) > 0 {
		if b.started.IsZero() {
			b.started = time.Now()
		}
		c := p[:min(len(p), chunk)]
		// Count before writing: the client may read the bytes before
		// Write returns, and a test reading BytesServed right after
		// its download must see them. A short write takes back the rest.
		b.origin.served.Add(int64(len(c)))
		n, err := b.rw.Write(c)
		if n < len(c) {
			b.origin.served.Add(int64(n - len(c)))
		}
		total += n
		b.written += int64(n)
		if err != nil {
			return total, err
		}
		p = p[n:]
		if rate > 0 {
			// Send each chunk now, as a slow server would, instead of
			// letting net/http's buffers hold the first few kilobytes.
			if err := http.NewResponseController(b.rw).Flush(); err != nil {
				return total, fmt.Errorf("flushing response: %w", err)
			}
			if err := b.pace(rate); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// pace sleeps until the bytes written so far are due at rate, or the request
// ends. Pacing against the start time corrects for oversleeping.
func (b *bodyWriter) pace(rate int64) error {
	due := b.started.Add(time.Duration(float64(b.written) / float64(rate) * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-b.ctx.Done():
		return fmt.Errorf("throttling response: %w", context.Cause(b.ctx))
	}
}

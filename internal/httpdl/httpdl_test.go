package httpdl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRangedMultiConnection(t *testing.T) {
	data := content(4<<20+12345, 1)
	o := newOrigin(t, serveCfg{data: data, etag: `"v1"`})
	d := newTestDownloader(t, Options{Connections: 4, SegmentSize: 256 << 10})
	dir := t.TempDir()

	var mu sync.Mutex
	var last Progress
	calls := 0
	res, err := d.Download(ctxTimeout(t), Request{
		URL: o.url("/files/data.bin"),
		Dir: dir,
		Progress: func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			last = p
			calls++
		},
	})
	require.NoError(t, err)
	require.Equal(t, "data.bin", res.Name)
	require.Equal(t, filepath.Join(dir, "data.bin"), res.Path)
	require.Equal(t, int64(len(data)), res.Size)
	require.Zero(t, res.Resumed)
	require.Equal(t, sum(data), fileSum(t, res.Path))
	require.Equal(t, []string{"data.bin"}, listDir(t, dir), "no .part or control file may remain")

	mu.Lock()
	require.GreaterOrEqual(t, calls, 1)
	require.Equal(t, Progress{Name: "data.bin", Done: int64(len(data)), Total: int64(len(data))}, last)
	mu.Unlock()

	require.Greater(t, o.maxInflight.Load(), int32(1), "segments must run in parallel")
	// One probe byte plus the file, nothing fetched twice.
	require.Equal(t, int64(len(data))+1, o.served.Load())
	// Probe plus one request per segment.
	require.Equal(t, int64(1+(len(data)+(256<<10)-1)/(256<<10)), o.requests.Load())
}

func TestSingleStream(t *testing.T) {
	data := content(1<<20+7, 2)
	tests := []struct {
		name    string
		cfg     serveCfg
		total   int64
		wantReq int64
	}{
		{name: "range ignored", cfg: serveCfg{data: data, etag: `"x"`, noRange: true}, total: int64(len(data)), wantReq: 1},
		{name: "unknown size (chunked)", total: -1, wantReq: 1, cfg: serveCfg{hook: func(w http.ResponseWriter, r *http.Request) bool {
			// No Content-Length: net/http sends chunks once flushed.
			for off := 0; off < len(data); off += 64 << 10 {
				_, _ = w.Write(data[off:min(off+64<<10, len(data))])
				_ = http.NewResponseController(w).Flush()
			}
			return true
		}}},
		{name: "empty file", cfg: serveCfg{data: []byte{}, etag: `"e"`}, total: 0, wantReq: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, tc.cfg)
			d := newTestDownloader(t, Options{})
			dir := t.TempDir()
			var mu sync.Mutex
			var totals []int64
			res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/a/file.iso"), Dir: dir, Progress: func(p Progress) {
				mu.Lock()
				totals = append(totals, p.Total)
				mu.Unlock()
			}})
			require.NoError(t, err)
			want := data
			if tc.total == 0 {
				want = []byte{}
			}
			require.Equal(t, int64(len(want)), res.Size)
			require.Equal(t, sum(want), fileSum(t, res.Path))
			require.Equal(t, []string{"file.iso"}, listDir(t, dir))
			require.Equal(t, tc.wantReq, o.requests.Load(), "the probe's body is the download")
			mu.Lock()
			require.NotEmpty(t, totals)
			require.Equal(t, tc.total, totals[len(totals)-1])
			mu.Unlock()
		})
	}
}

func TestOutputName(t *testing.T) {
	data := content(64<<10, 3)
	tests := []struct {
		name     string
		path     string
		cd       string
		override string
		want     string
	}{
		{name: "filename* wins", path: "/x/ignored.bin", cd: `attachment; filename="fallback.bin"; filename*=UTF-8''%D1%84%D0%B0%D0%B9%D0%BB.bin`, want: "файл.bin"},
		{name: "plain filename", path: "/x/ignored.bin", cd: `attachment; filename="report 2026.pdf"`, want: "report 2026.pdf"},
		{name: "lenient unquoted filename", path: "/x/ignored.bin", cd: `attachment; filename=my file.zip`, want: "my file.zip"},
		{name: "traversal in header", path: "/x/ignored.bin", cd: `attachment; filename="../../etc/passwd"`, want: "passwd"},
		{name: "url path with %20", path: "/files/my%20file.bin", want: "my file.bin"},
		{name: "url encoded slash stays in segment", path: "/files/a%2Fb.bin", want: "a_b.bin"},
		{name: "url path trailing slash", path: "/files/dir/", want: "dir"},
		{name: "no name at all", path: "/", want: "download"},
		{name: "junk header falls back to url", path: "/f/good.bin", cd: `attachment; filename=".."`, want: "good.bin"},
		{name: "override", path: "/files/x.bin", cd: `attachment; filename="y.bin"`, override: "custom.bin", want: "custom.bin"},
		{name: "override sanitized", path: "/files/x.bin", override: "../../evil.bin", want: "evil.bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, serveCfg{data: data, etag: `"n"`, cd: tc.cd})
			d := newTestDownloader(t, Options{})
			dir := t.TempDir()
			res, err := d.Download(ctxTimeout(t), Request{URL: o.url(tc.path), Dir: dir, Name: tc.override})
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Name)
			require.Equal(t, sum(data), fileSum(t, filepath.Join(dir, tc.want)))
		})
	}
}

func TestRedirect(t *testing.T) {
	data := content(1<<20, 4)
	var starts atomic.Int64
	o := newOrigin(t, serveCfg{data: data, etag: `"r"`})
	o.set(func(c *serveCfg) {
		c.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/go" {
				starts.Add(1)
				http.Redirect(w, r, "/real/target.bin?sig=abc", http.StatusFound)
				return true
			}
			return false
		}
	})
	d := newTestDownloader(t, Options{})
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/go"), Dir: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, "target.bin", res.Name, "name comes from the final URL")
	require.Equal(t, sum(data), fileSum(t, res.Path))
	require.Equal(t, int64(1), starts.Load(), "segments go to the final URL")
}

// pausedFirstCall downloads until the origin has served pauseAt bytes, then
// cancels the call from the origin's side, which is deterministic: the
// origin stops sending at the same moment.
func pausedFirstCall(t *testing.T, o *origin, d *Downloader, req Request, pauseAt int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctxTimeout(t))
	defer cancel()
	o.set(func(c *serveCfg) {
		c.pauseAt = pauseAt
		c.onPause = cancel
	})
	o.pauseArmed.Store(true)
	req.Progress = nil
	_, err := d.Download(ctx, req)
	require.ErrorIs(t, err, context.Canceled)
	o.pauseArmed.Store(false)
	o.set(func(c *serveCfg) { c.pauseAt, c.onPause = 0, nil })
	o.paused.Store(false)
}

func TestResumeAfterCancel(t *testing.T) {
	size := 8 << 20
	tests := []struct {
		name string
		cfg  serveCfg
	}{
		{name: "strong etag", cfg: serveCfg{etag: `"strong"`}},
		{name: "last-modified only", cfg: serveCfg{modTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{name: "weak etag falls back to date", cfg: serveCfg{etag: `W/"weak"`, modTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := content(size, byte(10+i))
			tc.cfg.data = data
			o := newOrigin(t, tc.cfg)
			d := newTestDownloader(t, Options{Connections: 4, SegmentSize: 256 << 10})
			dir := t.TempDir()
			req := Request{URL: o.url("/big.bin"), Dir: dir}

			pausedFirstCall(t, o, d, req, int64(size)*6/10)
			require.ElementsMatch(t, []string{"big.bin.part", ".big.bin.httpdl"}, listDir(t, dir))

			res, err := d.Download(ctxTimeout(t), req)
			require.NoError(t, err)
			require.Equal(t, sum(data), fileSum(t, res.Path))
			require.Positive(t, res.Resumed)
			require.Less(t, o.served.Load(), int64(size)*3/2, "resume must not fetch the file again")
			require.Equal(t, []string{"big.bin"}, listDir(t, dir))
		})
	}
}

func TestRemoteChangedBetweenCalls(t *testing.T) {
	size := 4 << 20
	old, fresh := content(size, 20), content(size, 21)
	o := newOrigin(t, serveCfg{data: old, etag: `"old"`})
	d := newTestDownloader(t, Options{})
	dir := t.TempDir()
	req := Request{URL: o.url("/f.bin"), Dir: dir}

	pausedFirstCall(t, o, d, req, int64(size)/2)
	require.FileExists(t, filepath.Join(dir, ".f.bin.httpdl"))

	o.set(func(c *serveCfg) { c.data, c.etag = fresh, `"new"` })
	res, err := d.Download(ctxTimeout(t), req)
	require.NoError(t, err)
	require.Zero(t, res.Resumed, "bytes of the old version must not be reused")
	require.Equal(t, sum(fresh), fileSum(t, res.Path))
	require.Equal(t, []string{"f.bin"}, listDir(t, dir))
}

func TestRemoteChangesMidDownload(t *testing.T) {
	size := 4 << 20
	old, fresh := content(size, 30), content(size, 31)
	o := newOrigin(t, serveCfg{data: old, etag: `"one"`})
	var n atomic.Int64
	o.set(func(c *serveCfg) {
		c.hook = func(w http.ResponseWriter, r *http.Request) bool {
			// After the probe and three segments, the file is replaced.
			if n.Add(1) == 5 {
				o.set(func(c *serveCfg) { c.data, c.etag = fresh, `"two"` })
			}
			return false
		}
	})
	d := newTestDownloader(t, Options{Connections: 2})
	dir := t.TempDir()
	// The change is noticed, the partial data of the old version discarded
	// and the new version downloaded from byte 0, once.
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: dir})
	require.NoError(t, err)
	require.Zero(t, res.Resumed)
	require.Equal(t, sum(fresh), fileSum(t, res.Path))
	require.Equal(t, []string{"f.bin"}, listDir(t, dir), "partial data and control file are discarded")
}

func TestDroppedConnectionsRecovered(t *testing.T) {
	size := 4 << 20
	data := content(size, 40)
	o := newOrigin(t, serveCfg{data: data, etag: `"d"`, dropAfter: 100 << 10})
	o.drops.Store(3)
	d := newTestDownloader(t, Options{})
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, sum(data), fileSum(t, res.Path))
	require.Negative(t, o.drops.Load(), "all three drops happened")
	require.Less(t, o.served.Load(), int64(size)*2)
}

func TestStatusErrors(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		header    map[string]string
		temporary bool
		retry     time.Duration
	}{
		{name: "404", code: http.StatusNotFound},
		{name: "403", code: http.StatusForbidden},
		{name: "503 with retry-after", code: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "7"}, temporary: true, retry: 7 * time.Second},
		{name: "429", code: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "2"}, temporary: true, retry: 2 * time.Second},
		{name: "500", code: http.StatusInternalServerError, temporary: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, serveCfg{hook: func(w http.ResponseWriter, r *http.Request) bool {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				http.Error(w, "no", tc.code)
				return true
			}})
			d := newTestDownloader(t, Options{})
			dir := t.TempDir()
			_, err := d.Download(ctxTimeout(t), Request{URL: "http://user:pw@" + strings.TrimPrefix(o.url("/secret/f.bin?token=s3cr3t"), "http://"), Dir: dir})
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.code, se.Code)
			require.Equal(t, tc.temporary, se.Temporary())
			require.Equal(t, tc.retry, se.RetryAfter)
			require.NotContains(t, err.Error(), "s3cr3t")
			require.NotContains(t, err.Error(), "pw@")
			require.Contains(t, err.Error(), "/secret/f.bin")
			require.Empty(t, listDir(t, dir))
		})
	}
}

// TestSegmentStatusRetried checks that a temporary status on a segment is
// retried inside the call and a persistent one is returned.
func TestSegmentStatusRetried(t *testing.T) {
	data := content(1<<20, 50)
	var failures atomic.Int64
	failures.Store(2)
	o := newOrigin(t, serveCfg{data: data, etag: `"s"`})
	o.set(func(c *serveCfg) {
		c.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Range") != "bytes=0-0" && failures.Add(-1) >= 0 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return true
			}
			return false
		}
	})
	d := newTestDownloader(t, Options{})
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, sum(data), fileSum(t, res.Path))

	failures.Store(1 << 30)
	d = newTestDownloader(t, Options{SegmentRetries: 1})
	_, err = d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: t.TempDir()})
	var se *StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusServiceUnavailable, se.Code)
}

func TestShortBody(t *testing.T) {
	data := content(1<<20, 60)
	short := func(w http.ResponseWriter, r *http.Request) bool {
		// Declares the whole file and sends half; net/http then closes
		// the connection.
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data[:len(data)/2])
		return true
	}
	shortRange := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Range") == "bytes=0-0" {
			return false
		}
		var start, end int64
		_, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &start, &end)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return true
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
		w.Header().Set("Content-Length", fmt.Sprint(end-start+1))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(data[start : start+(end-start+1)/2])
		return true
	}
	tests := []struct {
		name     string
		hook     func(w http.ResponseWriter, r *http.Request) bool
		leftover []string
	}{
		{name: "single stream", hook: short, leftover: []string{}},
		{name: "ranged", hook: shortRange, leftover: []string{"f.bin.part", ".f.bin.httpdl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, serveCfg{data: data, etag: `"s"`, hook: tc.hook})
			d := newTestDownloader(t, Options{SegmentRetries: -1})
			dir := t.TempDir()
			_, err := d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: dir})
			require.ErrorIs(t, err, ErrSizeMismatch)
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			require.ElementsMatch(t, tc.leftover, listDir(t, dir))
		})
	}
}

func TestCancelIsPromptAndResumable(t *testing.T) {
	size := 2 << 20
	data := content(size, 70)
	// 256 KiB/s per connection: the download would take about 2 s.
	o := newOrigin(t, serveCfg{data: data, etag: `"c"`, rate: 256 << 10})
	d := newTestDownloader(t, Options{Connections: 4, SegmentSize: 128 << 10})
	dir := t.TempDir()
	req := Request{URL: o.url("/slow.bin"), Dir: dir}

	ctx, cancel := context.WithCancel(ctxTimeout(t))
	defer cancel()
	var once sync.Once
	cancelled := make(chan time.Time, 1)
	req.Progress = func(p Progress) {
		if p.Done >= 200<<10 {
			once.Do(func() {
				cancelled <- time.Now()
				cancel()
			})
		}
	}
	_, err := d.Download(ctx, req)
	returned := time.Now()
	require.ErrorIs(t, err, context.Canceled)
	select {
	case at := <-cancelled:
		require.Less(t, returned.Sub(at), time.Second, "cancellation must stop the download promptly")
	default:
		t.Fatal("download returned before it was cancelled")
	}
	require.ElementsMatch(t, []string{"slow.bin.part", ".slow.bin.httpdl"}, listDir(t, dir))
	raw, err := os.ReadFile(filepath.Join(dir, ".slow.bin.httpdl"))
	require.NoError(t, err)
	var ctl control
	require.NoError(t, json.Unmarshal(raw, &ctl))
	require.Equal(t, req.URL, ctl.URL)
	require.Equal(t, int64(size), ctl.Size)
	require.Equal(t, `"c"`, ctl.ETag)

	o.set(func(c *serveCfg) { c.rate = 0 })
	req.Progress = nil
	res, err := d.Download(ctxTimeout(t), req)
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.Resumed, int64(200<<10))
	require.Equal(t, sum(data), fileSum(t, res.Path))
}

func TestStall(t *testing.T) {
	data := content(512<<10, 80)
	o := newOrigin(t, serveCfg{data: data, etag: `"st"`, hook: func(w http.ResponseWriter, r *http.Request) bool {
		var start, end int64
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &start, &end); err != nil || end == 0 {
			return false // the probe is answered normally
		}
		// A valid 206 whose body stops after 1000 bytes.
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
		w.Header().Set("Content-Length", fmt.Sprint(end-start+1))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(data[start : start+1000])
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
		return true
	}})
	d := newTestDownloader(t, Options{StallTimeout: 200 * time.Millisecond, SegmentRetries: -1})
	dir := t.TempDir()
	start := time.Now()
	_, err := d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: dir})
	require.ErrorIs(t, err, ErrStalled)
	require.Less(t, time.Since(start), 2*time.Second)
	// The bytes that did arrive are kept for the next call.
	raw, err := os.ReadFile(filepath.Join(dir, ".f.bin.httpdl"))
	require.NoError(t, err)
	var ctl control
	require.NoError(t, json.Unmarshal(raw, &ctl))
	require.Equal(t, map[int]int64{0: 1000, 1: 1000}, ctl.Partial)
}

func TestReprobeOnForbidden(t *testing.T) {
	data := content(2<<20, 90)
	var gen, starts, signed atomic.Int64
	o := newOrigin(t, serveCfg{data: data, etag: `"p"`})
	o.set(func(c *serveCfg) {
		c.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/start" {
				starts.Add(1)
				http.Redirect(w, r, fmt.Sprintf("/signed/%d/file.bin", gen.Load()), http.StatusFound)
				return true
			}
			var g int64
			if _, err := fmt.Sscanf(r.URL.Path, "/signed/%d/file.bin", &g); err != nil || g != gen.Load() {
				http.Error(w, "expired", http.StatusForbidden)
				return true
			}
			// The signed URL expires after the probe and three segments.
			if signed.Add(1) == 4 {
				gen.Add(1)
			}
			return false
		}
	})
	d := newTestDownloader(t, Options{Connections: 2})
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/start"), Dir: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, "file.bin", res.Name)
	require.Equal(t, sum(data), fileSum(t, res.Path))
	require.Equal(t, int64(2), starts.Load(), "exactly one re-probe")
}

func TestNoValidatorKeepsNoControlFile(t *testing.T) {
	size := 2 << 20
	data := content(size, 95)
	o := newOrigin(t, serveCfg{data: data})
	d := newTestDownloader(t, Options{})
	dir := t.TempDir()
	pausedFirstCall(t, o, d, Request{URL: o.url("/f.bin"), Dir: dir}, int64(size)/2)
	require.Empty(t, listDir(t, dir), "without a validator nothing can be resumed")
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/f.bin"), Dir: dir})
	require.NoError(t, err)
	require.Zero(t, res.Resumed)
	require.Equal(t, sum(data), fileSum(t, res.Path))
}

func TestBadRequests(t *testing.T) {
	d := newTestDownloader(t, Options{})
	_, err := d.Download(ctxTimeout(t), Request{URL: "", Dir: t.TempDir()})
	require.Error(t, err)
	_, err = d.Download(ctxTimeout(t), Request{URL: "http://127.0.0.1:1/x", Dir: ""})
	require.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = d.Download(ctx, Request{URL: "http://127.0.0.1:1/x", Dir: t.TempDir()})
	require.ErrorIs(t, err, context.Canceled)
	// Nothing listens on port 1: a network error, transient.
	_, err = d.Download(ctxTimeout(t), Request{URL: "http://127.0.0.1:1/x", Dir: t.TempDir()})
	require.Error(t, err)
	require.True(t, retryable(err))
	require.NotErrorIs(t, err, ErrRemoteChanged)
}

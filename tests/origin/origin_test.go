package origin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newClient returns a client that does not follow redirects unless asked and
// whose idle connections are closed when the test ends.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// get performs a GET with headers and returns the response and its body
// (with the error of reading it).
func get(t *testing.T, c *http.Client, url string, hdr ...string) (*http.Response, []byte, error) {
	t.Helper()
	resp, body, err := fetch(t.Context(), c, url, hdr...)
	if resp == nil {
		require.NoError(t, err)
	}
	return resp, body, err
}

// fetch is get without testing.T, for goroutines: resp is nil when the
// request itself failed.
func fetch(ctx context.Context, c *http.Client, url string, hdr ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// data returns n bytes of a recognisable pattern.
func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestFullGet(t *testing.T) {
	d := data(10_000)
	o := New(t, File{Path: "/a.bin", Data: d, ContentDisposition: `attachment; filename*=UTF-8''%D1%84.bin`})
	c := newClient(t)

	resp, body, err := get(t, c, o.URL("/a.bin"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, d, body)
	require.Equal(t, "10000", resp.Header.Get("Content-Length"))
	require.Equal(t, "bytes", resp.Header.Get("Accept-Ranges"))
	require.Equal(t, `attachment; filename*=UTF-8''%D1%84.bin`, resp.Header.Get("Content-Disposition"))
	require.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	require.Equal(t, `"`+sha(d)[:32]+`"`, resp.Header.Get("ETag"))
	require.Equal(t, sha(d), o.SHA256("/a.bin"))
	require.Equal(t, int64(10_000), o.BytesServed())
	require.Equal(t, int64(1), o.Requests())
	require.Empty(t, o.SHA256("/missing"))
}

func TestHead(t *testing.T) {
	o := New(t, File{Path: "/g", Size: 5000, Seed: 1})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, o.URL("/g"), nil)
	require.NoError(t, err)
	resp, err := newClient(t).Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, int64(5000), resp.ContentLength)
	require.Zero(t, o.BytesServed())
}

func TestRanges(t *testing.T) {
	d := data(1000)
	o := New(t, File{Path: "/d", Data: d}, File{Path: "/g", Size: 1000, Seed: 9})
	gen, err := io.ReadAll(Content(1000, 9))
	require.NoError(t, err)
	c := newClient(t)

	tests := []struct {
		rng          string
		status       int
		contentRange string
		from, to     int // expected body = content[from:to]
	}{
		{"bytes=0-0", http.StatusPartialContent, "bytes 0-0/1000", 0, 1},
		{"bytes=0-9", http.StatusPartialContent, "bytes 0-9/1000", 0, 10},
		{"bytes=100-199", http.StatusPartialContent, "bytes 100-199/1000", 100, 200},
		{"bytes=990-", http.StatusPartialContent, "bytes 990-999/1000", 990, 1000},
		{"bytes=-24", http.StatusPartialContent, "bytes 976-999/1000", 976, 1000},
		{"bytes=900-5000", http.StatusPartialContent, "bytes 900-999/1000", 900, 1000},
		{"bytes=1000-", http.StatusRequestedRangeNotSatisfiable, "bytes */1000", 0, 0},
		{"bytes=2000-2100", http.StatusRequestedRangeNotSatisfiable, "bytes */1000", 0, 0},
	}
	for _, path := range []string{"/d", "/g"} {
		content := d
		if path == "/g" {
			content = gen
		}
		for _, tt := range tests {
			t.Run(path+" "+tt.rng, func(t *testing.T) {
				before := o.BytesServed()
				resp, body, err := get(t, c, o.URL(path), "Range", tt.rng)
				require.NoError(t, err)
				require.Equal(t, tt.status, resp.StatusCode)
				require.Equal(t, tt.contentRange, resp.Header.Get("Content-Range"))
				if tt.status == http.StatusPartialContent {
					require.Equal(t, content[tt.from:tt.to], body)
					require.Equal(t, strconv.Itoa(tt.to-tt.from), resp.Header.Get("Content-Length"))
					require.Equal(t, int64(tt.to-tt.from), o.BytesServed()-before)
				} else {
					require.Equal(t, before, o.BytesServed(), "416 bodies are not content")
				}
			})
		}
	}
}

func TestIfRange(t *testing.T) {
	mod := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	d := data(500)
	o := New(t,
		File{Path: "/e", Data: d, ETag: "v1", LastModified: mod},
		File{Path: "/dated", Data: d, ETag: "-", LastModified: mod},
	)
	c := newClient(t)

	tests := []struct {
		name    string
		path    string
		ifRange string
		status  int
	}{
		{"etag match", "/e", `"v1"`, http.StatusPartialContent},
		{"etag mismatch", "/e", `"v0"`, http.StatusOK},
		{"weak etag never matches", "/e", `W/"v1"`, http.StatusOK},
		{"date match", "/dated", mod.Format(http.TimeFormat), http.StatusPartialContent},
		{"older date", "/dated", mod.Add(-time.Hour).Format(http.TimeFormat), http.StatusOK},
		{"garbage", "/dated", "yesterday", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, err := get(t, c, o.URL(tt.path), "Range", "bytes=100-199", "If-Range", tt.ifRange)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode)
			if tt.status == http.StatusOK {
				require.Equal(t, d, body, "a stale If-Range gets the full body")
				require.Empty(t, resp.Header.Get("Content-Range"))
				return
			}
			require.Equal(t, d[100:200], body)
			require.Equal(t, "bytes 100-199/500", resp.Header.Get("Content-Range"))
		})
	}

	resp, _, err := get(t, c, o.URL("/dated"))
	require.NoError(t, err)
	require.Empty(t, resp.Header.Values("ETag"), `ETag "-" sends none`)
	require.Equal(t, mod.Format(http.TimeFormat), resp.Header.Get("Last-Modified"))
}

func TestReplaceChangesETag(t *testing.T) {
	o := New(t, File{Path: "/f", Size: 4096, Seed: 1})
	c := newClient(t)
	resp, _, err := get(t, c, o.URL("/f"), "Range", "bytes=0-0")
	require.NoError(t, err)
	oldTag := resp.Header.Get("ETag")
	require.Equal(t, `"gen-1000-1"`, oldTag)
	oldSHA := o.SHA256("/f")

	o.Add(File{Path: "/f", Size: 4096, Seed: 2})
	resp, body, err := get(t, c, o.URL("/f"), "Range", "bytes=100-", "If-Range", oldTag)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, body, 4096)
	require.Equal(t, o.SHA256("/f"), sha(body))
	require.NotEqual(t, oldSHA, o.SHA256("/f"))
	require.NotEqual(t, oldTag, resp.Header.Get("ETag"))
}

func TestNoRanges(t *testing.T) {
	d := data(3000)
	o := New(t, File{Path: "/n", Data: d, NoRanges: true})
	resp, body, err := get(t, newClient(t), o.URL("/n"), "Range", "bytes=10-19")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, d, body)
	require.Empty(t, resp.Header.Get("Accept-Ranges"))
	require.Empty(t, resp.Header.Get("Content-Range"))
	require.Equal(t, int64(3000), resp.ContentLength)
	require.Equal(t, int64(3000), o.BytesServed())
}

func TestNoLength(t *testing.T) {
	o := New(t, File{Path: "/s", Size: 300_000, Seed: 3, NoLength: true})
	resp, body, err := get(t, newClient(t), o.URL("/s"), "Range", "bytes=0-0")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, int64(-1), resp.ContentLength)
	require.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	require.Equal(t, o.SHA256("/s"), sha(body))
}

func TestUnstable(t *testing.T) {
	o := New(t, File{Path: "/u", Size: 4000, Seed: 5, Unstable: true})
	c := newClient(t)
	first, a, err := get(t, c, o.URL("/u"), "Range", "bytes=0-999")
	require.NoError(t, err)
	// If-Range with the first response's ETag is ignored: another version's
	// bytes come back as 206.
	second, b, err := get(t, c, o.URL("/u"), "Range", "bytes=0-999", "If-Range", first.Header.Get("ETag"))
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, first.StatusCode)
	require.Equal(t, http.StatusPartialContent, second.StatusCode)
	require.NotEqual(t, first.Header.Get("ETag"), second.Header.Get("ETag"))
	require.NotEqual(t, a, b)
	require.Len(t, b, 1000)
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	const size, rate = 200_000, 100_000
	o := New(t, File{Path: "/slow", Size: size, Seed: 3, RateLimit: rate})
	start := time.Now()
	resp, body, err := get(t, newClient(t), o.URL("/slow"))
	elapsed := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, body, size)
	require.Equal(t, o.SHA256("/slow"), sha(body))
	// 200 KB at 100 KB/s is 2 s; allow wide margins for a busy machine.
	require.GreaterOrEqual(t, elapsed, 1500*time.Millisecond)
	require.Less(t, elapsed, 6*time.Second)
}

func TestDrop(t *testing.T) {
	d := data(10_000)
	o := New(t, File{Path: "/flaky", Data: d, DropAfter: 1000, DropTimes: 2})
	c := newClient(t)

	// A short probe is below DropAfter: served and no drop used.
	resp, body, err := get(t, c, o.URL("/flaky"), "Range", "bytes=0-0")
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, d[:1], body)

	for i := range 2 {
		before := o.BytesServed()
		resp, body, err := get(t, c, o.URL("/flaky"))
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "drop %d", i)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, d[:1000], body, "exactly DropAfter bytes arrive")
		require.Equal(t, int64(1000), o.BytesServed()-before)
	}

	// A ranged request that crosses DropAfter is cut too once drops are
	// left; here they are used up, so it and the next full GET succeed.
	resp, body, err = get(t, c, o.URL("/flaky"), "Range", "bytes=500-")
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Equal(t, d[500:], body)

	resp, body, err = get(t, c, o.URL("/flaky"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, d, body)
	require.Equal(t, int64(1+2*1000+9500+10_000), o.BytesServed())
	require.Equal(t, int64(5), o.Requests())
}

func TestDropBeforeBody(t *testing.T) {
	o := New(t, File{Path: "/cut", Size: 50_000, Seed: 5, DropAfter: 0, DropTimes: 1})
	c := newClient(t)
	resp, body, err := get(t, c, o.URL("/cut"), "Range", "bytes=10-")
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	require.Empty(t, body)
	require.Zero(t, o.BytesServed())

	_, body, err = get(t, c, o.URL("/cut"))
	require.NoError(t, err)
	require.Equal(t, o.SHA256("/cut"), sha(body))
}

func TestDropThrottled(t *testing.T) {
	t.Parallel()
	// Drops and throttling combine: 20 KB at 100 KB/s are cut after 5 KB.
	o := New(t, File{Path: "/both", Size: 20_000, Seed: 8, RateLimit: 100_000, DropAfter: 5000, DropTimes: 1})
	_, body, err := get(t, newClient(t), o.URL("/both"))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Len(t, body, 5000)
	require.Equal(t, int64(5000), o.BytesServed())
}

func TestStatusAndRedirect(t *testing.T) {
	d := data(300)
	o := New(t,
		File{Path: "/gone", Status: http.StatusNotFound},
		File{Path: "/boom", Data: d, Status: http.StatusInternalServerError},
		File{Path: "/hop", RedirectTo: "/real"},
		File{Path: "/hop2", RedirectTo: "/hop"},
		File{Path: "/real", Data: d},
	)
	c := newClient(t)

	for path, status := range map[string]int{"/gone": 404, "/boom": 500, "/nowhere": 404} {
		resp, _, err := get(t, c, o.URL(path))
		require.NoError(t, err)
		require.Equal(t, status, resp.StatusCode, path)
	}
	require.Zero(t, o.BytesServed(), "error bodies are not content")

	resp, body, err := get(t, c, o.URL("/hop2"), "Range", "bytes=0-9")
	require.NoError(t, err)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode, "the client keeps Range across redirects")
	require.Equal(t, d[:10], body)
	require.Equal(t, "/real", resp.Request.URL.Path)
	require.Equal(t, int64(10), o.BytesServed())

	noFollow := newClient(t)
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _, err = get(t, noFollow, o.URL("/hop"))
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/real", resp.Header.Get("Location"))

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, o.URL("/real"), nil)
	require.NoError(t, err)
	presp, err := c.Do(req)
	require.NoError(t, err)
	require.NoError(t, presp.Body.Close())
	require.Equal(t, http.StatusMethodNotAllowed, presp.StatusCode)
}

func TestContentGenerator(t *testing.T) {
	// Pinned: the generator's output is a contract (SplitMix64; seed 0
	// starts with 0xe220a8397b1dcdaf, little-endian).
	first := make([]byte, 8)
	_, err := io.ReadFull(Content(100, 0), first)
	require.NoError(t, err)
	require.Equal(t, "afcd1d7b39a820e2", hex.EncodeToString(first))

	const size = 1<<20 + 3
	all, err := io.ReadAll(Content(size, 42))
	require.NoError(t, err)
	require.Len(t, all, size)
	require.Equal(t, "d748585bb775bcc609b448b050abcd8633e55c206be35ccbfde67a3ffcb20a17", sha(all))

	other, err := io.ReadAll(Content(size, 43))
	require.NoError(t, err)
	require.NotEqual(t, sha(all), sha(other))

	// Seek to odd offsets and read odd lengths: same bytes as the stream.
	r := Content(size, 42)
	for _, off := range []int64{0, 1, 7, 8, 9, 12345, size - 5} {
		pos, err := r.Seek(off, io.SeekStart)
		require.NoError(t, err)
		require.Equal(t, off, pos)
		buf := make([]byte, 13)
		n, err := io.ReadFull(r, buf)
		want := all[off:min(off+13, size)]
		require.Equal(t, len(want), n)
		if n < len(buf) {
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, want, buf[:n], "offset %d", off)
	}
	end, err := r.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	require.Equal(t, int64(size), end)
	n, err := r.Read(make([]byte, 4))
	require.Zero(t, n)
	require.ErrorIs(t, err, io.EOF)
	_, err = r.Seek(-1, io.SeekStart)
	require.Error(t, err)

	// The origin serves exactly this content and reports its checksum.
	o := New(t, File{Path: "/gen", Size: size, Seed: 42})
	require.Equal(t, sha(all), o.SHA256("/gen"))
	_, body, err := get(t, newClient(t), o.URL("/gen"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(all, body))
}

func TestCloseCutsTransfers(t *testing.T) {
	o := NewServer(File{Path: "/slow", Size: 1 << 20, Seed: 1, RateLimit: 10_000})
	c := newClient(t)
	resp, err := c.Get(o.URL("/slow"))
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadFull(resp.Body, make([]byte, 100))
	require.NoError(t, err)

	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Close()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a throttled transfer was running")
	}
	_, err = io.ReadAll(resp.Body)
	require.Error(t, err)
	o.Close() // idempotent

	_, err = c.Get(o.URL("/slow"))
	require.Error(t, err, "a closed origin accepts no connections")
}

func TestAddRejectsRelativePath(t *testing.T) {
	o := New(t)
	require.PanicsWithValue(t, `origin: file path "x.bin" must start with /`, func() { o.Add(File{Path: "x.bin"}) })
}

func TestConcurrentSegments(t *testing.T) {
	const size = 8 << 20
	o := New(t, File{Path: "/big", Size: size, Seed: 77})
	c := newClient(t)
	const parts = 8
	got := make([][]byte, parts)
	errs := make(chan error, parts)
	for i := range parts {
		go func() {
			from, to := i*size/parts, (i+1)*size/parts-1
			_, body, err := fetch(t.Context(), c, o.URL("/big"), "Range", fmt.Sprintf("bytes=%d-%d", from, to))
			got[i] = body
			errs <- err
		}()
	}
	for range parts {
		require.NoError(t, <-errs)
	}
	require.Equal(t, o.SHA256("/big"), sha(bytes.Join(got, nil)))
	require.Equal(t, int64(size), o.BytesServed())
}

// BenchmarkServeGenerated measures how fast the origin serves generated
// content over loopback, the ceiling for downloader benchmarks that use it.
func BenchmarkServeGenerated(b *testing.B) {
	const size = 64 << 20
	o := NewServer(File{Path: "/big", Size: size, Seed: 1})
	defer o.Close()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.SetBytes(size)
	for b.Loop() {
		resp, err := c.Get(o.URL("/big"))
		require.NoError(b, err)
		n, err := io.Copy(io.Discard, resp.Body)
		require.NoError(b, err)
		require.NoError(b, resp.Body.Close())
		require.Equal(b, int64(size), n)
	}
}

func BenchmarkContent(b *testing.B) {
	buf := make([]byte, 32<<10)
	r := Content(1<<62, 1).(io.ReaderAt)
	b.SetBytes(int64(len(buf)))
	var off int64
	for b.Loop() {
		_, _ = r.ReadAt(buf, off)
		off += int64(len(buf))
	}
}

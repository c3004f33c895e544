package httpdl

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chunkedHook answers every request with 200 and a body of size bytes sent
// without Content-Length (chunked), as a server that does not know the size.
func chunkedHook(size int) func(w http.ResponseWriter, r *http.Request) bool {
	data := content(size, 77)
	return func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		for off := 0; off < len(data); off += 64 << 10 {
			if _, err := w.Write(data[off:min(off+64<<10, len(data))]); err != nil {
				return true
			}
			_ = http.NewResponseController(w).Flush()
		}
		return true
	}
}

func TestMaxSizeHoldsForUnknownLength(t *testing.T) {
	o := newOrigin(t, serveCfg{hook: chunkedHook(4 << 20)})
	d := newTestDownloader(t, Options{})
	dir := t.TempDir()
	_, err := d.Download(ctxTimeout(t), Request{URL: o.url("/stream.bin"), Dir: dir, MaxSize: 1 << 20})
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, &TooLargeError{Size: -1, Limit: 1 << 20}, tl)
	require.Empty(t, listDir(t, dir), "the bytes received are deleted")
	require.Equal(t, int64(1), o.requests.Load(), "a body over the limit is not fetched again")

	// At the limit exactly, the same body is accepted.
	res, err := d.Download(ctxTimeout(t), Request{URL: o.url("/stream.bin"), Dir: dir, MaxSize: 4 << 20})
	require.NoError(t, err)
	require.Equal(t, int64(4<<20), res.Size)
	require.Equal(t, sum(content(4<<20, 77)), fileSum(t, res.Path))
}

// hugeProbeHook claims a file of total bytes: the probe gets 206 with
// "bytes 0-0/total", any other range its bytes of zeros.
func hugeProbeHook(total int64) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		rng := r.Header.Get("Range")
		start, end := int64(0), int64(0)
		if rng != "bytes=0-0" {
			s, e, _ := parseRangeHeader(rng)
			start, end = s, e
		}
		w.Header().Set("ETag", `"huge"`)
		w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(total, 10))
		w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(make([]byte, end-start+1))
		return true
	}
}

// parseRangeHeader reads "bytes=S-E".
func parseRangeHeader(v string) (start, end int64, ok bool) {
	var s, e int64
	if _, err := fmt.Sscanf(v, "bytes=%d-%d", &s, &e); err != nil {
		return 0, 0, false
	}
	return s, e, true
}

// watchBlocks polls dir until stop is closed and returns the largest
// number of bytes allocated (not just sized) to the files in it.
func watchBlocks(t *testing.T, dir string) (stop func() int64) {
	t.Helper()
	var (
		most int64
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	measure := func() {
		var n int64
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			var st syscall.Stat_t
			if syscall.Stat(p, &st) == nil {
				n += st.Blocks * 512
			}
			return nil
		})
		most = max(most, n)
	}
	wg.Go(func() {
		for {
			measure()
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		measure()
		return most
	}
}

func TestDeclaredSizeRefusedBeforeReserving(t *testing.T) {
	t.Run("over MaxSize", func(t *testing.T) {
		o := newOrigin(t, serveCfg{hook: hugeProbeHook(10_000_000_000)})
		d := newTestDownloader(t, Options{})
		dir := t.TempDir()
		stop := watchBlocks(t, dir)
		_, err := d.Download(ctxTimeout(t), Request{URL: o.url("/huge.bin"), Dir: dir, MaxSize: 1 << 20})
		most := stop()
		var tl *TooLargeError
		require.ErrorAs(t, err, &tl)
		require.Equal(t, &TooLargeError{Size: 10_000_000_000, Limit: 1 << 20}, tl)
		require.LessOrEqual(t, most, int64(8<<10), "nothing is reserved before the size is accepted")
		require.Equal(t, int64(1), o.requests.Load(), "only the probe")
	})
	t.Run("over the free-disk floor", func(t *testing.T) {
		const declared = 64 << 20
		o := newOrigin(t, serveCfg{hook: hugeProbeHook(declared)})
		dir := t.TempDir()
		room, ok := diskRoom(dir, "")
		if !ok {
			t.Skip("the disk cannot be measured here")
		}
		// The file would fit the disk, but not above the floor.
		d := newTestDownloader(t, Options{MinFreeDisk: room - declared/2})
		stop := watchBlocks(t, dir)
		_, err := d.Download(ctxTimeout(t), Request{URL: o.url("/big.bin"), Dir: dir})
		most := stop()
		var nr *NoRoomError
		require.ErrorAs(t, err, &nr)
		require.Equal(t, int64(declared), nr.Size)
		require.LessOrEqual(t, most, int64(8<<10), "nothing is reserved past the floor")
		require.Empty(t, listDir(t, dir))
	})
}

// versionHook serves a new version of the file on every request, with a
// new ETag (or, when byDate, a new Last-Modified) and new content, and
// ignores If-Range: the server that splices files.
func versionHook(o *origin, size int, byDate bool, versions *atomic.Int64) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		v := versions.Add(1)
		r.Header.Del("If-Range")
		w.Header().Set("Content-Type", "application/octet-stream")
		mod := time.Time{}
		if byDate {
			mod = time.Date(2026, 1, 1, 0, 0, int(v), 0, time.UTC)
		} else {
			w.Header().Set("ETag", `"v`+strconv.FormatInt(v, 10)+`"`)
		}
		http.ServeContent(w, r, "", mod, bytes.NewReader(content(size, byte(v))))
		return true
	}
}

func TestFileChangingOnEveryResponse(t *testing.T) {
	for _, byDate := range []bool{false, true} {
		t.Run(map[bool]string{false: "etag", true: "last-modified"}[byDate], func(t *testing.T) {
			var versions atomic.Int64
			o := newOrigin(t, serveCfg{})
			o.set(func(c *serveCfg) { c.hook = versionHook(o, 2<<20, byDate, &versions) })
			d := newTestDownloader(t, Options{Connections: 1})
			dir := t.TempDir()
			_, err := d.Download(ctxTimeout(t), Request{URL: o.url("/moving.bin"), Dir: dir})
			require.ErrorIs(t, err, ErrRemoteChanged, "bytes of different versions must not be spliced")
			require.Empty(t, listDir(t, dir))
			// Probe and first segment, once more from zero, then it gives up.
			require.Equal(t, int64(4), o.requests.Load())
		})
	}
}

// A resumed download checks every segment against the probe too: here the
// probe still shows the version of the control file, but the server hands
// out bytes of another version for every range and ignores If-Range.
func TestResumeChecksSegmentVersion(t *testing.T) {
	size := 4 << 20
	old, fresh := content(size, 50), content(size, 51)
	o := newOrigin(t, serveCfg{data: old, etag: `"old"`})
	d := newTestDownloader(t, Options{Connections: 2})
	dir := t.TempDir()
	req := Request{URL: o.url("/r.bin"), Dir: dir}
	pausedFirstCall(t, o, d, req, int64(size)/2)
	require.FileExists(t, filepath.Join(dir, ".r.bin.httpdl"))

	o.set(func(c *serveCfg) {
		c.hook = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Range") == "bytes=0-0" {
				return false // the probe sees the old version
			}
			r.Header.Del("If-Range")
			w.Header().Set("ETag", `"new"`)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(fresh))
			return true
		}
	})
	_, err := d.Download(ctxTimeout(t), req)
	require.ErrorIs(t, err, ErrRemoteChanged)
	require.Empty(t, listDir(t, dir))
}

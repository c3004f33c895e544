package tgapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeRandomFile writes size pseudo-random bytes to a new file and returns
// its path and the sha256 of the range [off, off+n).
func writeRandomFile(t *testing.T, size, off, n int64) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "source.bin")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, f.Close()) }()
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for pos := int64(0); pos < size; {
		chunk := buf[:min(int64(len(buf)), size-pos)]
		_, _ = rng.Read(chunk)
		_, err := f.Write(chunk)
		require.NoError(t, err)
		lo, hi := max(off, pos), min(off+n, pos+int64(len(chunk)))
		if lo < hi {
			h.Write(chunk[lo-pos : hi-pos])
		}
		pos += int64(len(chunk))
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

// received is what the fake sendDocument saw.
type received struct {
	fields   map[string]string
	fileName string
	size     int64
	sha      string
	peakHeap uint64
}

// documentHandler streams the multipart body: fields into a map, the
// document into sha256, sampling the heap every 4 MiB.
func documentHandler(t *testing.T, out chan<- received) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			writeError(w, 400, "Bad Request: not multipart", 0)
			return
		}
		rec := received{fields: map[string]string{}}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				writeError(w, 400, "Bad Request: broken multipart", 0)
				return
			}
			if part.FormName() != "document" {
				v, _ := io.ReadAll(io.LimitReader(part, 4096))
				rec.fields[part.FormName()] = string(v)
				continue
			}
			rec.fileName = part.FileName()
			h := sha256.New()
			buf := make([]byte, 256<<10)
			var ms runtime.MemStats
			next := int64(0)
			for {
				n, rerr := part.Read(buf)
				h.Write(buf[:n])
				rec.size += int64(n)
				if rec.size >= next {
					runtime.ReadMemStats(&ms)
					rec.peakHeap = max(rec.peakHeap, ms.HeapInuse)
					next += 4 << 20
				}
				if rerr == io.EOF {
					break
				}
				if rerr != nil {
					return
				}
			}
			rec.sha = hex.EncodeToString(h.Sum(nil))
		}
		out <- rec
		writeOK(w, sentMessage(77, 5))
	}
}

func TestSendDocumentStreamsSection(t *testing.T) {
	const (
		offset = 1<<20 + 7
		length = 64 << 20
	)
	path, want := writeRandomFile(t, offset+length+123, offset, length)
	api := newFakeAPI(t)
	got := make(chan received, 1)
	api.handle("sendDocument", documentHandler(t, got))
	c := api.client(true) // 64 MiB is over the cloud limit

	var (
		mu    sync.Mutex
		sent  []int64
		start = time.Now()
	)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	id, err := c.SendDocument(context.Background(), Upload{ChatID: 5, Path: path, Offset: offset, Length: length,
		FileName: "movie.mkv.001", Caption: "<b>part 1</b>", HTML: true, ReplyTo: 3}, func(n int64) {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, n)
	})
	elapsed := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, 77, id)

	rec := <-got
	require.Equal(t, want, rec.sha, "the server got exactly the section")
	require.Equal(t, int64(length), rec.size)
	require.Equal(t, "movie.mkv.001", rec.fileName)
	require.Equal(t, "5", rec.fields["chat_id"])
	require.Equal(t, "<b>part 1</b>", rec.fields["caption"])
	require.Equal(t, "HTML", rec.fields["parse_mode"])
	var rp map[string]any
	require.NoError(t, json.Unmarshal([]byte(rec.fields["reply_parameters"]), &rp))
	require.Equal(t, map[string]any{"message_id": float64(3), "chat_id": float64(5), "allow_sending_without_reply": true}, rp)

	growth := int64(rec.peakHeap) - int64(base)
	t.Logf("heap in use: base %d MiB, peak %d MiB, %d progress calls in %s", base>>20, rec.peakHeap>>20, len(sent), elapsed)
	require.Less(t, growth, int64(16<<20), "the upload must not be buffered")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, sent)
	require.Equal(t, int64(length), sent[len(sent)-1])
	for i := 1; i < len(sent); i++ {
		require.Greater(t, sent[i], sent[i-1])
	}
	require.LessOrEqual(t, len(sent), int(elapsed/progressEvery)+2, "at most 4 calls a second plus the last")
}

func TestSendDocumentDefaultsNameToBase(t *testing.T) {
	path, want := writeRandomFile(t, 1000, 0, 1000)
	api := newFakeAPI(t)
	got := make(chan received, 1)
	api.handle("sendDocument", documentHandler(t, got))
	_, err := api.client(false).SendDocument(context.Background(), Upload{ChatID: 5, Path: path, Length: 1000}, nil)
	require.NoError(t, err)
	rec := <-got
	require.Equal(t, "source.bin", rec.fileName, "never the local path")
	require.Equal(t, want, rec.sha)
	require.NotContains(t, rec.fields, "parse_mode")
	require.NotContains(t, rec.fields, "reply_parameters")
}

func TestSendDocumentChecksBeforeUploading(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(CloudMaxUpload+1)) // sparse
	require.NoError(t, f.Close())
	small := filepath.Join(dir, "small.bin")
	require.NoError(t, os.WriteFile(small, []byte("0123456789"), 0o600))

	api := newFakeAPI(t)
	api.reply("sendDocument", sentMessage(1, 1))
	c := api.client(false)
	ctx := context.Background()

	_, err = c.SendDocument(ctx, Upload{ChatID: 1, Path: big, Length: CloudMaxUpload + 1, FileName: "big.bin"}, nil)
	require.ErrorIs(t, err, ErrTooLarge)
	require.False(t, IsTransient(err))

	// Exactly the limit passes the size check and fails on the range.
	_, err = c.SendDocument(ctx, Upload{ChatID: 1, Path: small, Length: CloudMaxUpload}, nil)
	require.ErrorContains(t, err, "past the end")
	require.NotErrorIs(t, err, ErrTooLarge)

	_, err = c.SendDocument(ctx, Upload{ChatID: 1, Path: small, Offset: 5, Length: 6}, nil)
	require.ErrorContains(t, err, "past the end")
	_, err = c.SendDocument(ctx, Upload{ChatID: 1, Path: small, Offset: -1, Length: 2}, nil)
	require.ErrorContains(t, err, "invalid range")
	_, err = c.SendDocument(ctx, Upload{ChatID: 1, Path: filepath.Join(dir, "missing"), Length: 1}, nil)
	require.ErrorIs(t, err, os.ErrNotExist)

	require.Empty(t, api.callLog(), "nothing was sent")

	local := api.client(true)
	_, err = local.SendDocument(ctx, Upload{ChatID: 1, Path: big, Length: LocalMaxUpload + 1}, nil)
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestSendDocumentCancelReturnsQuickly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.bin")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<30)) // sparse: reads zeros, costs no disk
	require.NoError(t, f.Close())

	api := newFakeAPI(t)
	handlerDone := make(chan struct{})
	api.handle("sendDocument", func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		// Read a little, then stall like a slow server until the client
		// goes away.
		_, _ = io.CopyN(io.Discard, r.Body, 1<<20)
		<-r.Context().Done()
	})
	c := api.client(true)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		started  = make(chan struct{})
		once     sync.Once
		returned atomic.Bool
		late     atomic.Int32
		total    atomic.Int64
	)
	progress := func(n int64) {
		if returned.Load() {
			late.Add(1)
		}
		total.Store(n)
		once.Do(func() { close(started) })
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.SendDocument(ctx, Upload{ChatID: 1, Path: path, Length: 1 << 30, FileName: "huge.bin"}, progress)
		returned.Store(true)
		errc <- err
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("upload did not start")
	}
	cancelled := time.Now()
	cancel()
	select {
	case err = <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("SendDocument did not return after cancel")
	}
	took := time.Since(cancelled)
	t.Logf("returned %s after cancel, %d MiB read", took, total.Load()>>20)
	require.Less(t, took, time.Second)
	require.ErrorIs(t, err, context.Canceled)
	requireNoToken(t, err)
	require.False(t, IsTransient(err))
	require.Less(t, total.Load(), int64(1<<30), "the upload stopped early")

	select {
	case <-handlerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the server handler did not see the client go away")
	}
	require.Zero(t, late.Load(), "progress called after SendDocument returned")
}

func TestSendDocumentReadErrorIsNotTransport(t *testing.T) {
	dir := t.TempDir()
	st, err := os.Stat(dir)
	require.NoError(t, err)
	if st.Size() == 0 {
		t.Skip("this file system reports directories as empty, so a read error cannot be provoked this way")
	}
	api := newFakeAPI(t)
	api.handle("sendDocument", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeError(w, 400, "Bad Request: broken multipart", 0)
	})
	// Reading a directory fails with EISDIR once the upload reads it.
	_, err = api.client(false).SendDocument(context.Background(), Upload{ChatID: 1, Path: dir, Length: 1, FileName: "x"}, nil)
	require.Error(t, err)
	var te *TransportError
	require.False(t, errors.As(err, &te), "a local read error is not a network error: %v", err)
	require.ErrorContains(t, err, "reading")
}

func TestSectionReader(t *testing.T) {
	var calls []int64
	s := &sectionReader{r: strings.NewReader("abc"), total: 5, progress: func(n int64) { calls = append(calls, n) }}
	data, err := io.ReadAll(s)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "a file that shrank is not sent truncated")
	require.Equal(t, "abc", string(data))
	require.ErrorIs(t, s.stop(), io.ErrUnexpectedEOF)
	require.Equal(t, []int64{3}, calls)

	s = &sectionReader{r: strings.NewReader("abcde"), total: 5, progress: func(n int64) { calls = append(calls, n) }}
	require.NoError(t, s.stop())
	n, err := s.Read(make([]byte, 5))
	require.Zero(t, n)
	require.ErrorIs(t, err, errUploadOver)
	require.Equal(t, []int64{3}, calls, "no progress after stop")
}

// A document whose whole body reached the server and whose answer was a 5xx
// or a dropped connection may have been posted: the error says so, and stays
// transient. A refusal by the Bot API does not.
func TestSendDocumentMaybeDelivered(t *testing.T) {
	path, _ := writeRandomFile(t, 64<<10, 0, 64<<10)
	cases := []struct {
		name  string
		serve http.HandlerFunc
		maybe bool
	}{
		{name: "502 after the body", maybe: true, serve: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
		}},
		{name: "500 API error after the body", maybe: true, serve: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeError(w, 500, "Internal Server Error", 0)
		}},
		{name: "connection dropped after the body", maybe: true, serve: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, _, err := http.NewResponseController(w).Hijack()
			require.NoError(t, err)
			_ = conn.Close()
		}},
		{name: "400 refusal", serve: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeError(w, 400, "Bad Request: chat not found", 0)
		}},
		{name: "429 flood control", serve: func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			writeError(w, 429, "Too Many Requests: retry after 3", 3)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			api.handle("sendDocument", tc.serve)
			_, err := api.client(false).SendDocument(context.Background(),
				Upload{ChatID: 1, Path: path, Length: 64 << 10, FileName: "x.bin"}, nil)
			require.Error(t, err)
			require.Equal(t, tc.maybe, errors.Is(err, ErrMaybeDelivered), "%v", err)
			if tc.maybe {
				require.True(t, IsTransient(err), "still retried: %v", err)
			}
		})
	}
}

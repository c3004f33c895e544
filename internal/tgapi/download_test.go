package tgapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(b)
	return b
}

func TestGetFile(t *testing.T) {
	api := newFakeAPI(t)
	api.handle("getFile", func(w http.ResponseWriter, r *http.Request) {
		p := readJSON(t, r)
		if p["file_id"] == "BIG" {
			writeError(w, 400, "Bad Request: file is too big", 0)
			return
		}
		writeOK(w, map[string]any{"file_id": p["file_id"], "file_unique_id": "u", "file_size": 5, "file_path": "documents/file_1.bin"})
	})
	c := api.client(false)

	f, err := c.GetFile(context.Background(), "F1")
	require.NoError(t, err)
	require.Equal(t, File{ID: "F1", Path: "documents/file_1.bin", Size: 5}, f)

	_, err = c.GetFile(context.Background(), "BIG")
	require.ErrorIs(t, err, ErrFileTooBig)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 400, ae.Code)
	require.Contains(t, ErrFileTooBig.Error(), "20 MB")
	require.Contains(t, ErrFileTooBig.Error(), "local")
	require.False(t, IsTransient(err))
}

func TestDownloadCloud(t *testing.T) {
	data := randomBytes(3<<20 + 11)
	api := newFakeAPI(t)
	api.file("documents/file 1.bin", data)
	api.reply("getFile", map[string]any{"file_id": "F1", "file_unique_id": "u", "file_size": len(data), "file_path": "documents/file 1.bin"})
	c := api.client(false)

	f, err := c.GetFile(context.Background(), "F1")
	require.NoError(t, err)
	var out bytes.Buffer
	var calls []int64
	n, err := c.Download(context.Background(), f, &out, func(k int64) { calls = append(calls, k) })
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.Equal(t, sha256.Sum256(data), sha256.Sum256(out.Bytes()))
	require.NotEmpty(t, calls)
	require.Equal(t, int64(len(data)), calls[len(calls)-1])
	require.Contains(t, api.callLog(), "file:documents/file 1.bin")
}

func TestDownloadCloudErrors(t *testing.T) {
	api := newFakeAPI(t)
	c := api.client(false)

	_, err := c.Download(context.Background(), File{ID: "F", Path: "documents/missing.bin"}, &bytes.Buffer{}, nil)
	requireNoToken(t, err)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 404, ae.Code)
	require.Equal(t, "download", ae.Method)

	_, err = c.Download(context.Background(), File{ID: "F"}, &bytes.Buffer{}, nil)
	require.ErrorContains(t, err, "no path")

	// The cloud client never reads local files named by the server.
	_, err = c.Download(context.Background(), File{ID: "F", Path: "/etc/passwd"}, &bytes.Buffer{}, nil)
	require.ErrorContains(t, err, "not configured for a local server")

	api.srv.Close()
	_, err = c.Download(context.Background(), File{ID: "F", Path: "documents/x.bin"}, &bytes.Buffer{}, nil)
	requireNoToken(t, err)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.True(t, IsTransient(err))
}

func TestDownloadServerErrorAndCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c, err := New(Options{Token: testToken, APIURL: srv.URL})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Download(context.Background(), File{ID: "F", Path: "documents/x.bin"}, &bytes.Buffer{}, nil)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.Equal(t, 502, te.Status)
	requireNoToken(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Download(ctx, File{ID: "F", Path: "documents/x.bin"}, &bytes.Buffer{}, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, IsTransient(err))
	requireNoToken(t, err)
}

func TestDownloadLocal(t *testing.T) {
	data := randomBytes(2<<20 + 5)
	path := filepath.Join(t.TempDir(), "var", "lib", "telegram-bot-api", "documents", "file_0.bin")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o600))

	api := newFakeAPI(t)
	api.reply("getFile", map[string]any{"file_id": "F1", "file_unique_id": "u", "file_size": len(data), "file_path": path})
	c := api.client(true)
	f, err := c.GetFile(context.Background(), "F1")
	require.NoError(t, err)
	require.Equal(t, path, f.Path)

	var out bytes.Buffer
	var last int64
	n, err := c.Download(context.Background(), f, &out, func(k int64) { last = k })
	require.NoError(t, err)
	require.Equal(t, int64(len(data)), n)
	require.Equal(t, int64(len(data)), last)
	require.Equal(t, sha256.Sum256(data), sha256.Sum256(out.Bytes()))
	require.Equal(t, []string{"getFile"}, api.callLog(), "read from disk, not over HTTP")

	_, err = c.Download(context.Background(), File{ID: "F2", Path: path + ".gone"}, &out, nil)
	require.ErrorIs(t, err, os.ErrNotExist)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Download(ctx, f, &out, nil)
	require.ErrorIs(t, err, context.Canceled)
}

// failingWriter fails like a full disk.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "out", Err: syscall.ENOSPC}
}

func TestDownloadWriteErrorStaysReachable(t *testing.T) {
	api := newFakeAPI(t)
	api.file("documents/a.bin", randomBytes(1000))
	_, err := api.client(false).Download(context.Background(), File{ID: "F", Path: "documents/a.bin"}, failingWriter{}, nil)
	require.ErrorIs(t, err, syscall.ENOSPC)
	var te *TransportError
	require.False(t, errors.As(err, &te), "a write error is not a transport error")
}

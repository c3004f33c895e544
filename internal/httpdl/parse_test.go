package httpdl

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                string
		start, end, total int64
		ok                bool
	}{
		{"bytes 0-0/1073741824", 0, 0, 1073741824, true},
		{"bytes 100-199/1000", 100, 199, 1000, true},
		{" bytes 5-9/* ", 5, 9, -1, true},
		{"bytes 0-9/5", 0, 0, 0, false}, // end beyond total
		{"bytes 9-0/50", 0, 0, 0, false},
		{"bytes */1000", 0, 0, 0, false},
		{"bytes -1-5/10", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes 0-1", 0, 0, 0, false},
		{"", 0, 0, 0, false},
		{"bytes a-b/c", 0, 0, 0, false},
	}
	for _, tc := range tests {
		s, e, total, ok := parseContentRange(tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
		if ok {
			require.Equal(t, []int64{tc.start, tc.end, tc.total}, []int64{s, e, total}, tc.in)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-3", 0},
		{"99999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, parseRetryAfter(tc.in, now), tc.in)
	}
}

func TestRedactURL(t *testing.T) {
	u, err := url.Parse("https://user:secret@example.com:8443/a%20b/c.bin?token=xyz#frag")
	require.NoError(t, err)
	require.Equal(t, "https://example.com:8443/a%20b/c.bin", redactURL(u))
	require.Equal(t, "(unparsable url)", redactRaw("http://[::1"))
	require.Empty(t, redactURL(nil))
}

func TestControlMatching(t *testing.T) {
	base := control{Version: controlVersion, URL: "http://h/f", Size: 100, ETag: `"e"`, SegmentSize: 30, Done: []byte{0}}
	tests := []struct {
		name string
		mod  func(c *control)
		rem  remote
		want bool
	}{
		{name: "same", rem: remote{size: 100, etag: `"e"`}, want: true},
		{name: "other etag", rem: remote{size: 100, etag: `"f"`}},
		{name: "other size", rem: remote{size: 101, etag: `"e"`}},
		{name: "other url", mod: func(c *control) { c.URL = "http://h/g" }, rem: remote{size: 100, etag: `"e"`}},
		{name: "old version", mod: func(c *control) { c.Version = 0 }, rem: remote{size: 100, etag: `"e"`}},
		{name: "no validator", mod: func(c *control) { c.ETag = "" }, rem: remote{size: 100}},
		{name: "date", mod: func(c *control) { c.ETag, c.LastModified = "", "Mon" }, rem: remote{size: 100, lastModified: "Mon"}, want: true},
		{name: "date changed", mod: func(c *control) { c.ETag, c.LastModified = "", "Mon" }, rem: remote{size: 100, lastModified: "Tue"}},
		{name: "etag appeared", mod: func(c *control) { c.ETag, c.LastModified = "", "Mon" }, rem: remote{size: 100, etag: `"e"`, lastModified: "Mon"}},
	}
	for _, tc := range tests {
		c := base
		if tc.mod != nil {
			tc.mod(&c)
		}
		require.Equal(t, tc.want, c.matches("http://h/f", tc.rem), tc.name)
	}

	require.True(t, base.valid())
	bad := base
	bad.Done = []byte{0, 0}
	require.False(t, bad.valid(), "bitmap of the wrong length")
	bad = base
	bad.Partial = map[int]int64{3: 10} // last segment is 10 bytes long
	require.False(t, bad.valid(), "partial at or past the segment end")
	bad.Partial = map[int]int64{4: 1}
	require.False(t, bad.valid(), "segment out of range")
	bad.Partial = map[int]int64{3: 9}
	require.True(t, bad.valid())
}

func TestControlFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".x.httpdl")
	c, err := loadControl(p)
	require.NoError(t, err)
	require.Nil(t, c, "a missing control file means nothing to resume")

	want := &control{Version: controlVersion, URL: "u", FinalURL: "f", Size: 70, ETag: `"e"`, SegmentSize: 30,
		Done: []byte{0b101}, Partial: map[int]int64{1: 12}}
	require.NoError(t, saveControl(p, p+".tmp", want))
	got, err := loadControl(p)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, []string{".x.httpdl"}, listDir(t, dir), "no temporary file left")

	require.NoError(t, os.WriteFile(p, []byte("{torn"), 0o644))
	got, err = loadControl(p)
	require.NoError(t, err)
	require.Nil(t, got, "a corrupt control file is ignored")
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("x: %w", ErrStalled), true},
		{fmt.Errorf("x: %w", ErrSizeMismatch), true},
		{&StatusError{Code: 503}, true},
		{&StatusError{Code: 429}, true},
		{&StatusError{Code: 408}, true},
		{&StatusError{Code: 404}, false},
		{&StatusError{Code: 401}, false},
		{fmt.Errorf("x: %w", ErrRemoteChanged), false},
		{fmt.Errorf("x: %w", ErrBadResponse), false},
		{fmt.Errorf("x: %w", context.Canceled), false},
		{&localError{fmt.Errorf("writing: %w", &os.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC})}, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, retryable(tc.err), "%v", tc.err)
	}
	disk := fmt.Errorf("downloading: %w", &localError{fmt.Errorf("writing: %w", &os.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC})})
	require.ErrorIs(t, disk, syscall.ENOSPC, "ENOSPC stays reachable")

	require.Equal(t, 200*time.Millisecond, backoff(1))
	require.Equal(t, 400*time.Millisecond, backoff(2))
	require.Equal(t, 3200*time.Millisecond, backoff(5))
	require.Equal(t, 5*time.Second, backoff(6))
	require.Equal(t, 5*time.Second, backoff(100))
}

func TestNewDefaults(t *testing.T) {
	d := New(Options{})
	require.Equal(t, DefaultConnections, d.o.Connections)
	require.Equal(t, int64(DefaultSegmentSize), d.o.SegmentSize)
	require.Equal(t, DefaultSegmentRetries, d.o.SegmentRetries)
	require.Equal(t, DefaultStallTimeout, d.o.StallTimeout)
	require.Contains(t, d.o.UserAgent, "mirrorleech/")
	tr, ok := d.client.Transport.(*http.Transport)
	require.True(t, ok)
	require.True(t, tr.DisableCompression)
	require.NotNil(t, tr.TLSNextProto, "HTTP/2 stays off")
	require.Zero(t, d.client.Timeout)

	d = New(Options{Connections: 1000, SegmentSize: 1, SegmentRetries: -1})
	require.Equal(t, maxConnections, d.o.Connections)
	require.Equal(t, int64(minSegmentSize), d.o.SegmentSize)
	require.Zero(t, d.o.SegmentRetries)
}

func TestSameVersion(t *testing.T) {
	probe := remote{etag: `"a"`, lastModified: "Mon, 02 Jan 2026 03:04:05 GMT"}
	require.True(t, probe.sameVersion(probe))
	require.True(t, probe.sameVersion(remote{}), "validators left off a partial response prove nothing")
	require.False(t, probe.sameVersion(remote{etag: `"b"`, lastModified: probe.lastModified}))
	require.False(t, probe.sameVersion(remote{etag: `"a"`, lastModified: "Tue, 03 Jan 2026 03:04:05 GMT"}))
	require.False(t, remote{lastModified: probe.lastModified}.sameVersion(remote{etag: `"x"`, lastModified: "Tue, 03 Jan 2026 03:04:05 GMT"}))
}

package torrent

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// Downloads from a real seeder, by .torrent bytes with the peer given
// explicitly and by magnet link (x.pe), multi-file with folders and
// single-file: every file must match the source byte for byte. Completion
// comes from the library's flag, so a Download that returned early (the
// VerifyData trap) would leave a file short and fail the checksums.
func TestDownload(t *testing.T) {
	multi := testFiles()
	single := map[string][]byte{"movie.mkv": swarm.Random(9, 5<<20+4321)}
	seedMulti := swarm.NewSeeder(t, multi, swarm.Options{Name: "My Torrent"})
	seedSingle := swarm.NewSeeder(t, single, swarm.Options{PieceLength: 64 << 10})
	c := newTestClient(t, Config{})

	cases := []struct {
		name  string
		seed  *swarm.Seeder
		files map[string][]byte
		req   Request
	}{
		{"metainfo multi-file", seedMulti, multi, Request{MetaInfo: seedMulti.MetaInfo, Peers: []string{seedMulti.Addr}}},
		{"magnet multi-file", seedMulti, multi, Request{Magnet: seedMulti.Magnet}},
		{"metainfo single-file", seedSingle, single, Request{MetaInfo: seedSingle.MetaInfo, Peers: []string{seedSingle.Addr}}},
		{"magnet single-file", seedSingle, single, Request{Magnet: seedSingle.Magnet}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log progressLog
			req := tc.req
			req.Dir = t.TempDir()
			req.Progress = log.add
			res, err := c.Download(testContext(t, time.Minute), req)
			require.NoError(t, err)

			var size int64
			for _, b := range tc.files {
				size += int64(len(b))
			}
			require.Equal(t, tc.seed.Name, res.Name)
			require.Equal(t, filepath.Join(req.Dir, "data", tc.seed.Name), res.Path)
			require.Equal(t, size, res.Size)
			require.Equal(t, len(tc.files), res.Files)
			if len(tc.files) == 1 {
				b, err := os.ReadFile(res.Path)
				require.NoError(t, err)
				for _, want := range tc.files {
					require.Equal(t, sum(want), sum(b))
				}
			} else {
				requireTree(t, res.Path, tc.files)
			}
			last := log.last()
			require.Equal(t, size, last.Done)
			require.Equal(t, size, last.Total)
			require.Equal(t, tc.seed.Name, last.Name)
			require.GreaterOrEqual(t, last.Downloaded, size, "the data came from the peer")
			require.Zero(t, c.Seeding())
			require.FileExists(t, filepath.Join(req.Dir, ".torrent", "info"))
		})
	}
}

// A second Download of a finished Dir returns at once, without peers.
func TestDownloadAgainAfterCompletion(t *testing.T) {
	files := testFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{})
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir})
	require.NoError(t, err)
	seeder.Close()

	var log progressLog
	res, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir, Progress: log.add, StallTimeout: time.Second})
	require.NoError(t, err)
	requireTree(t, res.Path, files)
	require.Zero(t, log.last().Downloaded)
}

// Unparsable sources fail with ErrBadTorrent before touching the disk.
func TestBadTorrent(t *testing.T) {
	c := newTestClient(t, Config{})
	for name, req := range map[string]Request{
		"garbage metainfo": {MetaInfo: []byte("this is not bencode")},
		"no info":          {MetaInfo: []byte("d8:announce3:urle")},
		"bad magnet":       {Magnet: "magnet:?xt=urn:btih:zzzz"},
		"not a magnet":     {Magnet: "http://example.com/x.torrent"},
		"unsafe name":      {MetaInfo: metaInfoNamed(t, "..")},
		"slash in name":    {MetaInfo: metaInfoNamed(t, "a/b")},
	} {
		t.Run(name, func(t *testing.T) {
			req.Dir = filepath.Join(t.TempDir(), "task")
			_, err := c.Download(context.Background(), req)
			require.ErrorIs(t, err, ErrBadTorrent)
			require.NoDirExists(t, req.Dir)
		})
	}
}

// metaInfoNamed returns a valid single-file .torrent whose name is name.
func metaInfoNamed(t *testing.T, name string) []byte {
	info := metainfo.Info{Name: name, PieceLength: 16 << 10, Length: 5, Pieces: make([]byte, 20)}
	infoBytes, err := bencode.Marshal(info)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, (&metainfo.MetaInfo{InfoBytes: infoBytes}).Write(&buf))
	return buf.Bytes()
}

// Two tasks of the same torrent at once: the second is refused.
func TestDuplicate(t *testing.T) {
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c := newTestClient(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Download(ctx, Request{Magnet: seeder.Magnet, Dir: t.TempDir(),
			Select: func(ctx context.Context, _ []File) ([]int, error) {
				close(started)
				<-ctx.Done()
				return nil, ctx.Err()
			}})
		done <- err
	}()
	<-started
	_, err := c.Download(context.Background(), Request{Magnet: seeder.Magnet, Dir: t.TempDir()})
	require.ErrorIs(t, err, ErrDuplicate)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

// The download rate limit holds the client back. Only a lower bound is
// checked: 8 MiB at 4 MB/s with a 0.5 MB burst cannot take less than about
// 2 s, however fast the machine.
func TestDownloadRateLimit(t *testing.T) {
	data := swarm.Random(13, 8<<20)
	seeder := swarm.NewSeeder(t, map[string][]byte{"f.bin": data}, swarm.Options{})
	c := newTestClient(t, Config{DownloadRateLimit: 4e6})
	start := time.Now()
	res, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: t.TempDir()})
	require.NoError(t, err)
	took := time.Since(start)
	b, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, sum(data), sum(b))
	t.Logf("8 MiB at 4 MB/s took %s", took)
	require.GreaterOrEqual(t, took, 1500*time.Millisecond)
}

// The client writes nothing outside the task folders: the library's
// default storage would open a piece database in the working directory.
func TestNoFilesInWorkingDirectory(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c := newTestClient(t, Config{})
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: t.TempDir()})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	entries, err := os.ReadDir(cwd)
	require.NoError(t, err)
	require.Empty(t, entries)
}

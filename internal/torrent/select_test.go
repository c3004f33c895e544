package torrent

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// Only the chosen files are fetched and delivered; the pieces they share
// with other files write into those, which are removed at the end with the
// folders they leave empty. The choice is saved: a later call never asks.
func TestSelect(t *testing.T) {
	files := testFiles()
	files["other/x.bin"] = swarm.Random(5, 700<<10)
	// 64 KiB pieces: every file boundary falls inside a piece.
	seeder := swarm.NewSeeder(t, files, swarm.Options{PieceLength: 64 << 10})
	dir := t.TempDir()

	want := map[string][]byte{}
	var offered []File
	c := newTestClient(t, Config{})
	res, err := c.Download(testContext(t, time.Minute), Request{
		MetaInfo: seeder.MetaInfo, Peers: []string{seeder.Addr}, Dir: dir,
		Select: func(ctx context.Context, list []File) ([]int, error) {
			offered = list
			var pick []int
			for _, f := range list {
				switch f.Path {
				case "a.bin", "sub/deep/c.txt", "sub/deep/empty.dat":
					pick = append(pick, f.Index)
					want[f.Path] = files[f.Path]
				}
			}
			return pick, nil
		},
	})
	require.NoError(t, err)

	var paths []string
	for _, f := range offered {
		paths = append(paths, f.Path)
		require.Equal(t, int64(len(files[f.Path])), f.Size, f.Path)
	}
	sort.Strings(paths)
	require.Equal(t, []string{"a.bin", "other/x.bin", "sub/b.bin", "sub/deep/c.txt", "sub/deep/empty.dat", "z.bin"}, paths)

	requireTree(t, res.Path, want)
	require.NoDirExists(t, res.Path+"/other", "the folder of unselected files is gone")
	require.Equal(t, 3, res.Files)
	require.Equal(t, int64(len(files["a.bin"])+len(files["sub/deep/c.txt"])), res.Size)

	// A restarted task (new client, same Dir) finds its choice and data.
	seeder.Close()
	c2 := newTestClient(t, Config{})
	res2, err := c2.Download(testContext(t, time.Minute), Request{
		MetaInfo: seeder.MetaInfo, Dir: dir, StallTimeout: time.Second,
		Select: func(context.Context, []File) ([]int, error) {
			return nil, errors.New("the saved selection was not used")
		},
	})
	require.NoError(t, err)
	require.Equal(t, res, res2)
	requireTree(t, res.Path, want)
}

// An empty choice fails with ErrNothingSelected; an error from Select is
// returned as is.
func TestSelectNothing(t *testing.T) {
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c := newTestClient(t, Config{})
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: t.TempDir(),
		Select: func(context.Context, []File) ([]int, error) { return nil, nil }})
	require.ErrorIs(t, err, ErrNothingSelected)

	_, err = c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: t.TempDir(),
		Select: func(context.Context, []File) ([]int, error) { return []int{99}, nil }})
	require.ErrorContains(t, err, "does not have")

	boom := errors.New("boom")
	_, err = c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: t.TempDir(),
		Select: func(context.Context, []File) ([]int, error) { return nil, boom }})
	require.ErrorIs(t, err, boom)
	require.Empty(t, c.cl.Torrents(), "every failed torrent was dropped")
}

package torrent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// With seed limits, Download returns at completion and the torrent keeps
// seeding: a second leecher gets everything from our client alone. At the
// ratio seeding stops, and the folder Retain took over is removed.
//
// The ratio is 2, not 1: the library counts a chunk as uploaded when it
// queues it, and it resets connections when they close (no linger), so
// the chunks still queued when a ratio of exactly 1 is reached never reach
// the leecher (seen once in 26 runs on a busy machine). A third leecher
// takes the upload past 2.
func TestSeedUntilRatio(t *testing.T) {
	files := testFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{})
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	res, err := c.Download(testContext(t, time.Minute), Request{
		Magnet: seeder.Magnet, Dir: dir, Seed: SeedLimits{Ratio: 2}})
	require.NoError(t, err)
	requireTree(t, res.Path, files)
	require.Equal(t, 1, c.Seeding())
	seeder.Close() // from now on only our client has the data

	require.True(t, c.Holds(dir))
	require.True(t, c.Retain(dir))
	require.False(t, c.Retain(t.TempDir()), "not a seeding folder")
	require.False(t, c.Holds(t.TempDir()))

	ours := []string{fmt.Sprintf("127.0.0.1:%d", c.Port())}
	out := t.TempDir()
	useful, err := swarm.Fetch(testContext(t, time.Minute), seeder.MetaInfo, ours, out)
	require.NoError(t, err)
	require.Equal(t, res.Size, useful)
	requireTree(t, filepath.Join(out, res.Name), files)
	require.Equal(t, 1, c.Seeding(), "seeding goes on below the ratio")
	require.True(t, exists(dir))

	// The third leecher is cut off at the ratio, so it never completes:
	// it stops when the test has seen seeding end.
	ctx, cancel := context.WithCancel(context.Background())
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		_, _ = swarm.Fetch(ctx, seeder.MetaInfo, ours, t.TempDir())
	}()
	defer func() { cancel(); <-fetched }()
	require.Eventually(t, func() bool { return c.Seeding() == 0 }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return !exists(dir) }, 10*time.Second, 50*time.Millisecond,
		"the retained folder is removed when seeding ends")
}

// A time limit ends seeding too; a folder nobody retained is left to the
// caller.
func TestSeedUntilTime(t *testing.T) {
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	_, err := c.Download(testContext(t, time.Minute), Request{
		Magnet: seeder.Magnet, Dir: dir, Seed: SeedLimits{Time: 200 * time.Millisecond}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return c.Seeding() == 0 }, 30*time.Second, 20*time.Millisecond)
	require.False(t, c.Holds(dir))
	require.False(t, c.Retain(dir))
	require.DirExists(t, dir)
	require.Empty(t, c.cl.Torrents())
}

// Closing the client ends seeding and removes retained folders.
func TestSeedUntilClose(t *testing.T) {
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c, err := New(Config{ListenHost: "127.0.0.1", NoDHT: true, DisableTrackers: true, DisablePEX: true})
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir, Seed: SeedLimits{Ratio: 5}})
	require.NoError(t, err)
	require.True(t, c.Retain(dir))
	require.NoError(t, c.Close())
	require.Zero(t, c.Seeding())
	require.NoDirExists(t, dir)
}

// A new task for a torrent that is only seeding stops the seeding and
// downloads (here: into the same folder, which must then survive).
func TestSeedReplacedByDownload(t *testing.T) {
	files := testFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{})
	c := newTestClient(t, Config{})
	dir := t.TempDir()
	_, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir, Seed: SeedLimits{Ratio: 5}})
	require.NoError(t, err)
	require.True(t, c.Retain(dir))
	res, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: dir})
	require.NoError(t, err)
	require.Zero(t, c.Seeding())
	requireTree(t, res.Path, files)
}

// Rule 1 of docs/torrent-library.md: a leecher pulling more than 16 MiB
// from a client of ours must finish. The library's default 1 MiB request
// budget stalls the upload after about 2 MiB per connection (§2 there),
// shown by the variant that sets it back.
func TestUploadBudget(t *testing.T) {
	data := swarm.Random(11, 24<<20)
	seeder := swarm.NewSeeder(t, map[string][]byte{"big.bin": data}, swarm.Options{})
	for _, tc := range []struct {
		name     string
		maxAlloc int
		finishes bool
	}{
		{"16 MiB", 0, true},
		{"library default 1 MiB", 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, Config{maxAllocPerConn: tc.maxAlloc})
			res, err := c.Download(testContext(t, time.Minute), Request{Magnet: seeder.Magnet, Dir: t.TempDir(), Seed: SeedLimits{Ratio: 10}})
			require.NoError(t, err)
			require.Equal(t, int64(len(data)), res.Size)

			wait := time.Minute
			if !tc.finishes {
				wait = 3 * time.Second // unthrottled loopback moves 24 MiB in well under a second
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			useful, err := swarm.Fetch(ctx, seeder.MetaInfo, []string{fmt.Sprintf("127.0.0.1:%d", c.Port())}, t.TempDir())
			t.Logf("the leecher got %d of %d bytes from our client", useful, len(data))
			if tc.finishes {
				require.NoError(t, err)
				require.Equal(t, int64(len(data)), useful)
			} else {
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.Less(t, useful, int64(8<<20), "the upload stalled after a few MiB")
			}
		})
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

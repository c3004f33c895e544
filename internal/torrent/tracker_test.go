package torrent

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// Trackers are on by default and reached through Config.DialContext (the
// network guard in production): with no peer given, the seeder is found
// through the tracker named in the .torrent.
func TestTrackerThroughDialer(t *testing.T) {
	tracker := swarm.NewTracker(t)
	files := testFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{Announce: tracker.URL})
	require.Eventually(t, func() bool { return tracker.Announces() > 0 }, 30*time.Second, 20*time.Millisecond,
		"the seeder announced itself")

	var dials atomic.Int32
	var d net.Dialer
	c := newTestClient(t, Config{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}})
	res, err := c.Download(testContext(t, time.Minute), Request{MetaInfo: seeder.MetaInfo, Dir: t.TempDir()})
	require.NoError(t, err)
	requireTree(t, res.Path, files)
	require.Positive(t, dials.Load(), "the announce went through the dialer")
	require.GreaterOrEqual(t, tracker.Announces(), 2)
}

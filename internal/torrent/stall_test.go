package torrent

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	pp "github.com/anacrolix/torrent/peer_protocol"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

// deadPeer returns a loopback address nobody listens on.
func deadPeer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// A torrent whose peers never answer fails with ErrStalled after the
// stall timeout, with a message that says so; in the metadata phase too.
func TestStall(t *testing.T) {
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c := newTestClient(t, Config{})
	dead := deadPeer(t)

	_, err := c.Download(testContext(t, time.Minute), Request{
		MetaInfo: seeder.MetaInfo, Peers: []string{dead}, Dir: t.TempDir(), StallTimeout: time.Second})
	require.ErrorIs(t, err, ErrStalled)
	require.ErrorContains(t, err, "no peers sent any data for 1s")

	var log progressLog
	magnet := "magnet:?xt=urn:btih:" + seeder.InfoHash + "&x.pe=" + dead
	_, err = c.Download(testContext(t, time.Minute), Request{
		Magnet: magnet, Dir: t.TempDir(), StallTimeout: time.Second, Progress: log.add})
	require.ErrorIs(t, err, ErrStalled)
	require.ErrorContains(t, err, "no peer sent the torrent's metadata for 1s")
	require.Equal(t, map[Phase]bool{PhaseMetadata: true}, log.phases())
	require.Empty(t, c.cl.Torrents())
}

// Data that stops coming midway (the only seeder leaves) stalls too.
func TestStallMidway(t *testing.T) {
	data := swarm.Random(7, 8<<20)
	seeder := swarm.NewSeeder(t, map[string][]byte{"f.bin": data}, swarm.Options{})
	c := newTestClient(t, Config{DownloadRateLimit: 4e6})
	var log progressLog
	_, err := c.Download(testContext(t, time.Minute), Request{
		Magnet: seeder.Magnet, Dir: t.TempDir(), StallTimeout: time.Second,
		Progress: func(p Progress) {
			log.add(p)
			if p.Done > 0 {
				seeder.Close()
			}
		}})
	require.ErrorIs(t, err, ErrStalled)
	require.ErrorContains(t, err, "no peers sent any data for 1s")
	require.Positive(t, log.last().Done)
}

// Cancelling in the metadata phase returns the context's error at once
// and drops the torrent.
func TestCancelDuringMetadata(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled time.Time
	magnet := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&x.pe=" + deadPeer(t)
	_, err := c.Download(ctx, Request{Magnet: magnet, Dir: t.TempDir(), Progress: func(p Progress) {
		require.Equal(t, PhaseMetadata, p.Phase)
		if cancelled.IsZero() {
			cancelled = time.Now()
			cancel()
		}
	}})
	took := time.Since(cancelled)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, c.cl.Torrents())
	t.Logf("Download returned %s after the cancel", took)
	// Not a speed check: the call must not wait for anything (no peer, no
	// metadata) after the cancel.
	require.Less(t, took, 5*time.Second)
}

// Closing the client ends a running Download with ErrClosed.
func TestCloseDuringDownload(t *testing.T) {
	c, err := New(Config{ListenHost: "127.0.0.1", NoDHT: true, DisableTrackers: true, DisablePEX: true})
	require.NoError(t, err)
	magnet := "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&x.pe=" + deadPeer(t)
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		var once bool
		_, err := c.Download(context.Background(), Request{Magnet: magnet, Dir: t.TempDir(), Progress: func(Progress) {
			if !once {
				once = true
				close(started)
			}
		}})
		done <- err
	}()
	<-started
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-done, ErrClosed)
	require.NoError(t, c.Close(), "Close is idempotent")
	_, err = c.Download(context.Background(), Request{Magnet: magnet, Dir: t.TempDir()})
	require.ErrorIs(t, err, ErrClosed)
}

// forward relays every connection to on to target, until the test ends.
func forward(t *testing.T, on, target string) {
	l, err := net.Listen("tcp", on)
	require.NoError(t, err)
	var (
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
		wg     sync.WaitGroup
	)
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			if closed {
				_, _ = in.Close(), out.Close()
			}
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
}

// The only peer a magnet names (x.pe) is unreachable when the download
// starts and comes up later: the download dials it again and completes,
// where the library alone would have dropped it after the refused dial and
// waited for nothing.
func TestDirectPeerDialedAgain(t *testing.T) {
	data := swarm.Random(17, 3<<20)
	seeder := swarm.NewSeeder(t, map[string][]byte{"late.bin": data}, swarm.Options{})
	c := newTestClient(t, Config{})
	late := deadPeer(t)
	magnet := "magnet:?xt=urn:btih:" + seeder.InfoHash + "&x.pe=" + late
	var log progressLog
	done := make(chan error, 1)
	var res Result
	go func() {
		var err error
		res, err = c.Download(testContext(t, time.Minute), Request{Magnet: magnet, Dir: t.TempDir(), Progress: log.add})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the download ended while its only peer was down: %v", err)
	case <-time.After(time.Second):
	}
	forward(t, late, seeder.Addr)
	start := time.Now()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(45 * time.Second):
		t.Fatal("the download did not dial its peer again")
	}
	t.Logf("finished %s after the peer came up", time.Since(start).Round(time.Millisecond))
	b, err := os.ReadFile(res.Path)
	require.NoError(t, err)
	require.Equal(t, sum(data), sum(b))
}

// A connection's writer wakes at least every writerWakeBound even when the
// wake-up it waited for was lost (a race in the library, see
// writerWakeBound): an interested peer of a seeding torrent hears a
// keep-alive that often. With the library's default of a minute, a lost
// wake-up stalled a download for the rest of a one-minute test.
func TestWriterWakesWithinBound(t *testing.T) {
	seeder := swarm.NewSeeder(t, testFiles(), swarm.Options{})
	c := newTestClient(t, Config{})
	_, err := c.Download(testContext(t, time.Minute), Request{
		Magnet: seeder.Magnet, Dir: t.TempDir(), Seed: SeedLimits{Ratio: 5}})
	require.NoError(t, err)
	seeder.Close()

	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port()), 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	ih := metainfo.NewHashFromHex(seeder.InfoHash)
	var id [20]byte
	copy(id[:], "-MLTEST-keepalive---")
	_, err = pp.Handshake(testContext(t, 10*time.Second), conn, &ih, id, pp.PeerExtensionBits{})
	require.NoError(t, err)
	interested, err := pp.Message{Type: pp.Interested}.MarshalBinary()
	require.NoError(t, err)
	_, err = conn.Write(interested)
	require.NoError(t, err)

	// Every message is read until the first keep-alive (a zero length).
	// Within the bound plus a margin for a busy machine, far below the
	// library's minute.
	limit := 2 * writerWakeBound
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(limit)))
	var lastMessage time.Time
	for {
		var n uint32
		require.NoError(t, binary.Read(conn, binary.BigEndian, &n), "no keep-alive within %s", limit)
		if n == 0 {
			t.Logf("keep-alive %s after the previous message", time.Since(lastMessage).Round(time.Millisecond))
			return
		}
		_, err := io.CopyN(io.Discard, conn, int64(n))
		require.NoError(t, err)
		lastMessage = time.Now()
	}
}

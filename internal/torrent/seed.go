package torrent

import (
	"log/slog"
	"os"
	"sync"
	"time"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

// seedJob is a completed torrent left seeding in the background.
type seedJob struct {
	c      *Client
	t      *atorrent.Torrent
	st     *taskState
	dir    string
	key    metainfo.Hash
	limits SeedLimits
	size   int64
	log    *slog.Logger
	// retained is set by Retain (under c.mu): the folder is ours to remove.
	retained bool

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// startSeeding hands d's torrent over to a seeding goroutine and reports
// whether it did (not when the client is closing: then d drops it).
func (c *Client) startSeeding(d *download, size int64) bool {
	s := &seedJob{
		c: c, t: d.t, st: d.st, dir: d.dir, key: d.key, limits: d.r.Seed, size: size, log: d.log,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	delete(c.busy, d.key)
	c.seeds[d.dir] = s
	c.byHash[d.key] = s
	c.jobs.Add(1)
	go s.run()
	return true
}

// halt ends seeding now and waits until the torrent is dropped.
func (s *seedJob) halt() {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
}

func (s *seedJob) run() {
	defer s.c.jobs.Done()
	defer close(s.done)
	var deadline <-chan time.Time
	if s.limits.Time > 0 {
		timer := time.NewTimer(s.limits.Time)
		defer timer.Stop()
		deadline = timer.C
	}
	target := int64(s.limits.Ratio * float64(s.size))
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	reason := ""
	for reason == "" {
		select {
		case <-s.stop:
			reason = "replaced by a new download"
		case <-s.c.ctx.Done():
			reason = "client closed"
		case <-deadline:
			reason = "time limit"
		case <-tick.C:
			if s.limits.Ratio > 0 && uploaded(s.t) >= target {
				reason = "ratio reached"
			}
		}
	}
	up := uploaded(s.t)
	s.c.mu.Lock()
	delete(s.c.seeds, s.dir)
	delete(s.c.byHash, s.key)
	retained := s.retained
	s.c.mu.Unlock()
	s.t.Drop()
	if err := s.st.close(); err != nil {
		s.log.Warn("closing a seeded torrent", "err", err)
	}
	if retained {
		if err := os.RemoveAll(s.dir); err != nil {
			s.log.Warn("removing a seeded torrent's folder", "err", err)
		}
	}
	s.log.Info("seeding ended", "reason", reason, "uploaded", up, "size", s.size)
}

// uploaded returns the piece data t sent to peers, counted (by the library)
// when it is queued: the last chunks queued when seeding ends are lost with
// the connections, which the library resets on close.
func uploaded(t *atorrent.Torrent) int64 {
	s := t.Stats()
	return s.BytesWrittenData.Int64()
}

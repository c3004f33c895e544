package cron

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/internal/store"
)

// cleanupDone is the report of a cleanup worker.
type cleanupDone struct {
	at      time.Time
	removed int
	bytes   int64
	kept    int
	pruned  int
	err     error
}

// cleanupWork is what one cleanup run needs; the worker goroutine owns it.
type cleanupWork struct {
	dir       string
	st        store.Store
	now       time.Time
	retention time.Duration
	log       *slog.Logger
	inUse     func(dir string) bool
}

func (c *Cron) startCleanup(ctx actor.Context, at time.Time) {
	self, root, work := ctx.Self(), ctx.ActorSystem().Root, c.work
	w := cleanupWork{dir: c.o.DownloadDir, st: c.o.Store, now: at, retention: c.o.Retention, log: c.log, inUse: c.o.InUse}
	go func() {
		root.Send(self, w.run(work))
	}()
}

func (c *Cron) cleanupDone(m *cleanupDone) {
	c.finished(JobCleanup)
	attrs := []any{slog.Int("removed", m.removed), slog.Int64("bytes", m.bytes), slog.Int("kept_young", m.kept),
		slog.Int("pruned", m.pruned)}
	if m.err != nil {
		c.log.Warn("maintenance cleanup finished with errors", append(attrs, slog.Any("err", m.err))...)
	} else {
		c.log.Info("maintenance cleanup finished", attrs...)
	}
	if c.o.OnJob != nil {
		c.o.OnJob(JobReport{Job: JobCleanup, At: m.at, Removed: m.removed, Bytes: m.bytes, Kept: m.kept,
			Pruned: m.pruned, Err: m.err})
	}
}

// run removes the orphaned entries of the download directory, then prunes
// old finished task records. It never panics and reports every problem in
// the result.
func (w cleanupWork) run(ctx context.Context) *cleanupDone {
	res := &cleanupDone{at: w.now}
	var errs []error
	if err := w.removeOrphans(ctx, res); err != nil {
		errs = append(errs, err)
	}
	if err := w.prune(ctx, res); err != nil {
		errs = append(errs, err)
	}
	res.err = errors.Join(errs...)
	return res
}

// removeOrphans removes every entry of the download directory that is not
// the working directory of an unfinished task. The directory is listed
// before the store: a task created during the scan has its record written
// before it can own data that the listing saw, so it is never taken for an
// orphan. Entries modified within OrphanMinAge are kept as a second guard,
// for a task whose record is not written yet. Hidden entries belong to other
// components (state and control files) and are never touched.
func (w cleanupWork) removeOrphans(ctx context.Context, res *cleanupDone) error {
	entries, err := os.ReadDir(w.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing download directory: %w", err)
	}
	live, err := w.st.Tasks(ctx, store.Filter{Unfinished: true})
	if err != nil {
		// Without the list of live tasks nothing can be called an orphan.
		return fmt.Errorf("listing unfinished tasks: %w", err)
	}
	owned := make(map[string]bool, len(live))
	for _, t := range live {
		owned[t.Spec.ID] = true
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || owned[name] {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("cleanup interrupted: %w", ctx.Err()))
			break
		}
		path := filepath.Join(w.dir, name)
		if w.inUse != nil && w.inUse(path) {
			continue // a finished torrent still seeding from it
		}
		size, newest, err := measure(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by its owner meanwhile
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("inspecting %s: %w", name, err))
			continue
		}
		if w.now.Sub(newest) < OrphanMinAge {
			res.kept++
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", name, err))
			continue
		}
		w.log.Debug("removed orphaned data", slog.String("entry", name), slog.Int64("bytes", size))
		res.removed++
		res.bytes += size
	}
	return errors.Join(errs...)
}

// measure returns the bytes held by the regular files under path and the
// newest modification time of anything in it, path itself included. Links
// are not followed, so data outside the tree is neither counted nor removed.
func measure(path string) (size int64, newest time.Time, err error) {
	err = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			size += info.Size()
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		return nil
	})
	return size, newest, err
}

// prune deletes the records of tasks that finished before now-retention.
func (w cleanupWork) prune(ctx context.Context, res *cleanupDone) error {
	old, err := w.st.Tasks(ctx, store.Filter{FinishedBefore: w.now.Add(-w.retention)})
	if err != nil {
		return fmt.Errorf("listing old finished tasks: %w", err)
	}
	if len(old) == 0 {
		return nil
	}
	ids := make([]string, len(old))
	for i, t := range old {
		ids[i] = t.Spec.ID
	}
	if err := w.st.DeleteTasks(ctx, ids...); err != nil {
		return fmt.Errorf("pruning %d finished tasks: %w", len(ids), err)
	}
	res.pruned = len(ids)
	return nil
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mirrorleech/mirrorleech/messages"
)

// ErrNotFound is returned for a task the store does not hold.
var ErrNotFound = errors.New("task not found")

// ErrOwned is returned (wrapped) by a claim on a task that another live
// cluster member holds.
var ErrOwned = errors.New("task is held by another node")

// Task is the durable record of one task: everything a resume needs.
type Task struct {
	Spec  messages.TaskSpec
	Stage messages.Stage
	// Node is the name of the node that runs (or last ran) the task, for
	// people (status lines, logs).
	Node string
	// Owner is the cluster member id (the actor system id) of the process
	// that holds the task: only that member runs it. A task whose owner is
	// no longer a live member may be claimed by another (ErrOwned otherwise).
	Owner string `json:",omitempty"`
	// Done and Total are the last checkpointed progress of the stage.
	Done  int64
	Total int64
	// Download is set once the download stage finished; a resumed task goes
	// straight to delivery from it.
	Download *messages.DownloadFinished `json:",omitempty"`
	// Archive is set once the archive stage (-z, -e) finished: the zip or
	// the extracted tree that the upload delivers instead of the download.
	Archive *messages.ArchiveFinished `json:",omitempty"`
	// Parts are the leech parts Telegram confirmed: part index → message id.
	Parts map[int]int `json:",omitempty"`
	// Where the result went, once done.
	Where string `json:",omitempty"`
	// Error is the user-facing reason of a failure.
	Error string `json:",omitempty"`
	// Resumes counts the restarts the task survived.
	Resumes  int
	Updated  time.Time
	Finished time.Time `json:",omitempty"`
}

// Filter selects tasks; the zero Filter selects all.
type Filter struct {
	UserID     int64 // 0 = any user
	Unfinished bool  // only tasks not in a final stage
	// FinishedBefore selects finished tasks that ended before it.
	FinishedBefore time.Time
	// ChatID and Command, when set, select the tasks of that chat started
	// by that command message (Spec.ReplyTo): "/cancel" sent as a reply to
	// a task's command finds the task with them.
	ChatID  int64
	Command int
}

func (f Filter) match(t *Task) bool {
	switch {
	case f.UserID != 0 && t.Spec.UserID != f.UserID:
		return false
	case f.Unfinished && t.Stage.Final():
		return false
	case !f.FinishedBefore.IsZero() && (!t.Stage.Final() || !t.Finished.Before(f.FinishedBefore)):
		return false
	case f.ChatID != 0 && t.Spec.ChatID != f.ChatID:
		return false
	case f.Command != 0 && t.Spec.ReplyTo != f.Command:
		return false
	}
	return true
}

// TaskStore holds task records. Implementations make every write durable
// before returning and UpdateTask atomic.
type TaskStore interface {
	// PutTask creates or replaces a task record.
	PutTask(ctx context.Context, t Task) error
	// GetTask returns a task or ErrNotFound.
	GetTask(ctx context.Context, id string) (Task, error)
	// UpdateTask applies fn to the stored record atomically and returns the
	// result; an error from fn aborts the update.
	UpdateTask(ctx context.Context, id string, fn func(*Task) error) (Task, error)
	// Tasks lists the records matching f, oldest first.
	Tasks(ctx context.Context, f Filter) ([]Task, error)
	// DeleteTasks removes records; missing ids are ignored.
	DeleteTasks(ctx context.Context, ids ...string) error
}

var bucketTasks = []byte("tasks")

func decodeTask(v []byte) (Task, error) {
	var t Task
	if err := json.Unmarshal(v, &t); err != nil {
		return Task{}, fmt.Errorf("decoding task record: %w", err)
	}
	return t, nil
}

// PutTask implements TaskStore.
func (b *Bolt) PutTask(_ context.Context, t Task) error {
	if t.Spec.ID == "" {
		return errors.New("store: task without id")
	}
	t.Updated = time.Now()
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding task %s: %w", t.Spec.ID, err)
	}
	err = b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTasks).Put([]byte(t.Spec.ID), v)
	})
	if err != nil {
		return fmt.Errorf("saving task %s: %w", t.Spec.ID, err)
	}
	return nil
}

// GetTask implements TaskStore.
func (b *Bolt) GetTask(_ context.Context, id string) (Task, error) {
	var (
		t   Task
		err error
	)
	verr := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTasks).Get([]byte(id))
		if v == nil {
			err = ErrNotFound
			return nil
		}
		t, err = decodeTask(v)
		return nil
	})
	if verr != nil {
		return Task{}, fmt.Errorf("reading task %s: %w", id, verr)
	}
	if err != nil {
		return Task{}, fmt.Errorf("reading task %s: %w", id, err)
	}
	return t, nil
}

// UpdateTask implements TaskStore.
func (b *Bolt) UpdateTask(_ context.Context, id string, fn func(*Task) error) (Task, error) {
	var out Task
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketTasks)
		v := bk.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		t, err := decodeTask(v)
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		t.Updated = time.Now()
		nv, err := json.Marshal(t)
		if err != nil {
			return err
		}
		out = t
		return bk.Put([]byte(id), nv)
	})
	if err != nil {
		return Task{}, fmt.Errorf("updating task %s: %w", id, err)
	}
	return out, nil
}

// Tasks implements TaskStore.
func (b *Bolt) Tasks(_ context.Context, f Filter) ([]Task, error) {
	var out []Task
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTasks).ForEach(func(_, v []byte) error {
			t, err := decodeTask(v)
			if err != nil {
				return err
			}
			if f.match(&t) {
				out = append(out, t)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Created.Before(out[j].Spec.Created) })
	return out, nil
}

// DeleteTasks implements TaskStore.
func (b *Bolt) DeleteTasks(_ context.Context, ids ...string) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketTasks)
		for _, id := range ids {
			if err := bk.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting tasks: %w", err)
	}
	return nil
}

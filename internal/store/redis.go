package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrConflict is returned (wrapped) when an optimistic Redis transaction
// lost the race for its keys on every attempt. It is transient.
var ErrConflict = errors.New("store: too many concurrent changes, giving up")

const (
	// txAttempts bounds the WATCH/MULTI retries of one write. Under a
	// stress of 8 writers hammering one record with no pause (the
	// conformance test), the unluckiest update needed up to 23 attempts, so
	// 64 leaves a wide margin while still failing a write that can never win.
	txAttempts = 64
	// mgetChunk bounds the keys of one MGET, so a large listing does not
	// block the server with one huge reply.
	mgetChunk = 256
)

// Redis is the cluster store: every node of a cluster shares one Redis.
//
// Keys (all under one hash tag, {store}, so transactions and MGET work on
// Redis Cluster):
//
//	<prefix>:{store}:task:<id>   JSON of Task
//	<prefix>:{store}:tasks       ZSET of ids scored by Spec.Created (UnixNano)
//	<prefix>:{store}:open        SET of ids not in a final stage
//	<prefix>:{store}:user:<uid>  SET of the ids of one user
//	<prefix>:{store}:auth        SET of authorized chat and user ids
type Redis struct {
	c    redis.UniversalClient
	base string // "<prefix>:{store}:"
	// retries counts WATCH conflicts (transactions run again), for metrics
	// and tests.
	retries atomic.Uint64
}

var _ Store = (*Redis)(nil)

// OpenRedis checks the server answers (Ping) and returns the store. Close
// does not close the client (the caller owns it). prefix namespaces the keys
// so several deployments can share a server; "" means "mirrorleech".
func OpenRedis(ctx context.Context, client redis.UniversalClient, prefix string) (*Redis, error) {
	if prefix == "" {
		prefix = "mirrorleech"
	}
	r := &Redis{c: client, base: prefix + ":{store}:"}
	if err := r.Ping(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Redis) taskKey(id string) string { return r.base + "task:" + id }
func (r *Redis) allKey() string           { return r.base + "tasks" }
func (r *Redis) openKey() string          { return r.base + "open" }
func (r *Redis) authKey() string          { return r.base + "auth" }
func (r *Redis) userKey(uid int64) string { return r.base + "user:" + strconv.FormatInt(uid, 10) }

// Retries reports how many optimistic transactions had to run again because
// another writer changed their keys first, since the store was opened.
func (r *Redis) Retries() uint64 { return r.retries.Load() }

// createdScore is the ZSET score of a task. The zero time (and dates
// UnixNano cannot represent) score 0 rather than an undefined value.
func createdScore(t *Task) float64 {
	c := t.Spec.Created
	if c.IsZero() || c.Year() < 1678 || c.Year() > 2261 {
		return 0
	}
	return float64(c.UnixNano())
}

// writeIndexes queues the record and its index entries. old is the record
// being replaced (nil when none), so a changed user leaves no stale entry.
func (r *Redis) writeIndexes(ctx context.Context, pipe redis.Pipeliner, t *Task, v []byte, old *Task) {
	id := t.Spec.ID
	pipe.Set(ctx, r.taskKey(id), v, 0)
	pipe.ZAdd(ctx, r.allKey(), redis.Z{Score: createdScore(t), Member: id})
	if t.Stage.Final() {
		pipe.SRem(ctx, r.openKey(), id)
	} else {
		pipe.SAdd(ctx, r.openKey(), id)
	}
	if old != nil && old.Spec.UserID != t.Spec.UserID {
		pipe.SRem(ctx, r.userKey(old.Spec.UserID), id)
	}
	pipe.SAdd(ctx, r.userKey(t.Spec.UserID), id)
}

// optimistic runs fn under WATCH of keys until its MULTI commits, retrying
// (bounded, with jittered sleeps) when another writer got there first. fn
// may therefore run more than once.
func (r *Redis) optimistic(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	for attempt := 0; ; attempt++ {
		err := r.c.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		if attempt+1 >= txAttempts {
			return fmt.Errorf("%w after %d attempts: %w", ErrConflict, txAttempts, err)
		}
		r.retries.Add(1)
		// Full jitter over a window that doubles from 1 ms up to 16 ms, so
		// contenders spread out instead of colliding again in lockstep.
		window := time.Millisecond << min(attempt, 4)
		timer := time.NewTimer(rand.N(window) + 100*time.Microsecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// replaced reads, inside a WATCH, the record a PutTask replaces: nil when
// there is none or it cannot be decoded (it is then simply overwritten).
func (r *Redis) replaced(ctx context.Context, tx *redis.Tx, id string) (*Task, error) {
	v, err := tx.Get(ctx, r.taskKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t, err := decodeTask(v)
	if err != nil {
		return nil, nil //nolint:nilerr // a corrupt record is replaced, not an error
	}
	return &t, nil
}

// PutTask implements TaskStore.
func (r *Redis) PutTask(ctx context.Context, t Task) error {
	if t.Spec.ID == "" {
		return errors.New("store: task without id")
	}
	t.Updated = time.Now()
	v, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding task %s: %w", t.Spec.ID, err)
	}
	err = r.optimistic(ctx, func(tx *redis.Tx) error {
		// The replaced record is read only to drop a stale user index entry.
		old, err := r.replaced(ctx, tx, t.Spec.ID)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			r.writeIndexes(ctx, pipe, &t, v, old)
			return nil
		})
		return err
	}, r.taskKey(t.Spec.ID))
	if err != nil {
		return fmt.Errorf("saving task %s: %w", t.Spec.ID, err)
	}
	return nil
}

// GetTask implements TaskStore.
func (r *Redis) GetTask(ctx context.Context, id string) (Task, error) {
	v, err := r.c.Get(ctx, r.taskKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	if err != nil {
		return Task{}, fmt.Errorf("reading task %s: %w", id, err)
	}
	t, err := decodeTask(v)
	if err != nil {
		return Task{}, fmt.Errorf("reading task %s: %w", id, err)
	}
	return t, nil
}

// UpdateTask implements TaskStore. It is atomic through WATCH on the record:
// fn sees the current record and runs again on a fresh copy when another
// writer changed it first, so fn must not have effects beyond the *Task.
func (r *Redis) UpdateTask(ctx context.Context, id string, fn func(*Task) error) (Task, error) {
	var out Task
	err := r.optimistic(ctx, func(tx *redis.Tx) error {
		v, err := tx.Get(ctx, r.taskKey(id)).Bytes()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// Two decodes: fn gets its own copy (no maps shared with old), and
		// old stays as stored, for the index changes.
		old, err := decodeTask(v)
		if err != nil {
			return err
		}
		t, err := decodeTask(v)
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		t.Spec.ID = id // the key is the id: fn cannot move a record
		t.Updated = time.Now()
		nv, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encoding: %w", err)
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			r.writeIndexes(ctx, pipe, &t, nv, &old)
			return nil
		})
		if err == nil {
			out = t
		}
		return err
	}, r.taskKey(id))
	if err != nil {
		return Task{}, fmt.Errorf("updating task %s: %w", id, err)
	}
	return out, nil
}

// Tasks implements TaskStore. It reads the smallest index that covers f
// (open tasks, one user's, or all), then the records, and applies f to them
// exactly as Bolt does. Ids whose record vanished are pruned from the
// indexes.
func (r *Redis) Tasks(ctx context.Context, f Filter) ([]Task, error) {
	var (
		ids []string
		err error
	)
	switch {
	case f.Unfinished && f.UserID != 0:
		ids, err = r.c.SInter(ctx, r.openKey(), r.userKey(f.UserID)).Result()
	case f.Unfinished:
		ids, err = r.c.SMembers(ctx, r.openKey()).Result()
	case f.UserID != 0:
		ids, err = r.c.SMembers(ctx, r.userKey(f.UserID)).Result()
	default:
		ids, err = r.c.ZRange(ctx, r.allKey(), 0, -1).Result()
	}
	if err != nil {
		return nil, fmt.Errorf("listing tasks: %w", err)
	}
	var (
		out      []Task
		vanished []string
	)
	keys := make([]string, 0, min(len(ids), mgetChunk))
	for start := 0; start < len(ids); start += mgetChunk {
		chunk := ids[start:min(start+mgetChunk, len(ids))]
		keys = keys[:0]
		for _, id := range chunk {
			keys = append(keys, r.taskKey(id))
		}
		vals, err := r.c.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("listing tasks: %w", err)
		}
		for i, v := range vals {
			s, ok := v.(string)
			if !ok { // nil: deleted since the index was read, or a stale entry
				vanished = append(vanished, chunk[i])
				continue
			}
			t, err := decodeTask([]byte(s))
			if err != nil {
				return nil, fmt.Errorf("listing tasks: task %s: %w", chunk[i], err)
			}
			if f.match(&t) {
				out = append(out, t)
			}
		}
	}
	for _, id := range vanished {
		// Best effort: a failure leaves the entry for the next listing.
		_ = r.prune(ctx, id, f.UserID)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Spec.Created, out[j].Spec.Created
		if a.Equal(b) {
			return out[i].Spec.ID < out[j].Spec.ID
		}
		return a.Before(b)
	})
	return out, nil
}

// prune drops the index entries of a record that no longer exists. It
// watches the record so a concurrent PutTask of the same id keeps its
// entries. The user set is known only when the listing was by user.
func (r *Redis) prune(ctx context.Context, id string, uid int64) error {
	key := r.taskKey(id)
	return r.c.Watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, key).Result()
		if err != nil || n > 0 {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.ZRem(ctx, r.allKey(), id)
			pipe.SRem(ctx, r.openKey(), id)
			if uid != 0 {
				pipe.SRem(ctx, r.userKey(uid), id)
			}
			return nil
		})
		return err
	}, key)
}

// DeleteTasks implements TaskStore. Records are read under WATCH first, to
// know which user set each one is in.
func (r *Redis) DeleteTasks(ctx context.Context, ids ...string) error {
	for start := 0; start < len(ids); start += mgetChunk {
		chunk := ids[start:min(start+mgetChunk, len(ids))]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = r.taskKey(id)
		}
		err := r.optimistic(ctx, func(tx *redis.Tx) error {
			vals, err := tx.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Del(ctx, keys...)
				members := make([]any, len(chunk))
				for i, id := range chunk {
					members[i] = id
				}
				pipe.ZRem(ctx, r.allKey(), members...)
				pipe.SRem(ctx, r.openKey(), members...)
				for i, v := range vals {
					s, ok := v.(string)
					if !ok {
						continue
					}
					if t, err := decodeTask([]byte(s)); err == nil {
						pipe.SRem(ctx, r.userKey(t.Spec.UserID), chunk[i])
					}
				}
				return nil
			})
			return err
		}, keys...)
		if err != nil {
			return fmt.Errorf("deleting tasks: %w", err)
		}
	}
	return nil
}

// AuthorizedChats implements Store.
func (r *Redis) AuthorizedChats(ctx context.Context) ([]int64, error) {
	members, err := r.c.SMembers(ctx, r.authKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("reading authorized chats: %w", err)
	}
	var ids []int64 // nil when empty, like Bolt
	for _, m := range members {
		id, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			continue // not ours; never written by SetAuthorized
		}
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// SetAuthorized implements Store.
func (r *Redis) SetAuthorized(ctx context.Context, id int64, on bool) error {
	m := strconv.FormatInt(id, 10)
	var err error
	if on {
		err = r.c.SAdd(ctx, r.authKey(), m).Err()
	} else {
		err = r.c.SRem(ctx, r.authKey(), m).Err()
	}
	if err != nil {
		return fmt.Errorf("saving authorization of %d: %w", id, err)
	}
	return nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("pinging redis: %w", err)
	}
	return nil
}

// Close implements Store. The client belongs to the caller and stays open.
func (r *Redis) Close() error { return nil }

package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Store is the durable state of a node (or of the cluster).
type Store interface {
	TaskStore
	// AuthorizedChats lists the chats and users authorized at run time.
	AuthorizedChats(ctx context.Context) ([]int64, error)
	// SetAuthorized adds (on) or removes a chat or user.
	SetAuthorized(ctx context.Context, id int64, on bool) error
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// ErrLocked means another process holds the state file.
var ErrLocked = errors.New("the state file is in use by another mirrorleech process")

var bucketAuth = []byte("authorized_chats")

// Bolt is the embedded store.
type Bolt struct {
	db *bolt.DB
}

var _ Store = (*Bolt)(nil)

// OpenBolt opens (creating if needed) the state file in dir.
func OpenBolt(dir string) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating state dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "mirrorleech.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("opening %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAuth, bucketTasks} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialising %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

func key(id int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(id))
	return b
}

// AuthorizedChats implements Store.
func (b *Bolt) AuthorizedChats(context.Context) ([]int64, error) {
	var ids []int64
	err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAuth).ForEach(func(k, _ []byte) error {
			if len(k) == 8 {
				ids = append(ids, int64(binary.BigEndian.Uint64(k)))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("reading authorized chats: %w", err)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// SetAuthorized implements Store.
func (b *Bolt) SetAuthorized(_ context.Context, id int64, on bool) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketAuth)
		if on {
			return bk.Put(key(id), []byte{1})
		}
		return bk.Delete(key(id))
	})
	if err != nil {
		return fmt.Errorf("saving authorization of %d: %w", id, err)
	}
	return nil
}

// Ping implements Store.
func (b *Bolt) Ping(context.Context) error {
	return b.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAuth) == nil {
			return errors.New("store: missing bucket")
		}
		return nil
	})
}

// Close implements Store.
func (b *Bolt) Close() error { return b.db.Close() }

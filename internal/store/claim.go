package store

import (
	"context"
	"errors"
	"fmt"
)

// ClaimTask makes owner the holder of task id, atomically: it succeeds when
// the task has no owner, is already owner's, or its owner is not alive
// (alive(memberID) false; alive nil = only owner counts as alive, as on a
// single node whose earlier process ids are all gone). Otherwise it returns
// an error wrapping ErrOwned together with the current record, so the caller
// can tell who holds it. It also sets Node = node. It returns the updated
// record.
//
// alive may run more than once (UpdateTask retries on contention) and must
// not block for long: it runs inside the store's transaction.
func ClaimTask(ctx context.Context, s TaskStore, id, owner, node string, alive func(memberID string) bool) (Task, error) {
	if owner == "" {
		return Task{}, errors.New("store: claiming a task without an owner id")
	}
	var held Task
	t, err := s.UpdateTask(ctx, id, func(t *Task) error {
		if t.Owner != "" && t.Owner != owner && alive != nil && alive(t.Owner) {
			held = *t
			return fmt.Errorf("held by %s on %s: %w", t.Owner, t.Node, ErrOwned)
		}
		t.Owner = owner
		t.Node = node
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrOwned) {
			return held, fmt.Errorf("claiming for %s: %w", owner, err)
		}
		return Task{}, fmt.Errorf("claiming for %s: %w", owner, err)
	}
	return t, nil
}

// errNotHeld aborts a release whose task needs no change.
var errNotHeld = errors.New("not held")

// ReleaseTask clears Owner when it is still owner (used on graceful handover
// so another node may claim at once). A task held by someone else is left
// alone and gives an error wrapping ErrOwned; a missing or unowned task is
// left alone with a nil error.
func ReleaseTask(ctx context.Context, s TaskStore, id, owner string) error {
	if owner == "" {
		return nil // nobody to release for
	}
	_, err := s.UpdateTask(ctx, id, func(t *Task) error {
		switch t.Owner {
		case owner:
			t.Owner = ""
			return nil
		case "":
			return errNotHeld
		default:
			return fmt.Errorf("held by %s on %s: %w", t.Owner, t.Node, ErrOwned)
		}
	})
	switch {
	case err == nil, errors.Is(err, errNotHeld), errors.Is(err, ErrNotFound):
		return nil
	default:
		return fmt.Errorf("releasing for %s: %w", owner, err)
	}
}

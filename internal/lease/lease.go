package lease

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// ErrLost is returned (possibly wrapped) when a token no longer holds the
// lease: it expired, or another holder acquired it since. Hold also cancels
// fn's context with a cause wrapping ErrLost when it can no longer prove it
// holds the lease.
var ErrLost = errors.New("lease lost")

// Token identifies one holding of the lease: Fence grows with every
// acquisition (INCR of a counter), Value is what is stored in the lease key
// ("<holder>/<fence>").
type Token struct {
	Fence int64
	Value string
}

// Lease is a single-holder lease with a fenced offset. Both implementations
// are safe for concurrent use.
type Lease interface {
	// TryAcquire takes the lease when it is free; false, nil means someone
	// else holds it.
	TryAcquire(ctx context.Context) (Token, bool, error)
	// Renew extends the holding of tok by the lease's TTL; ErrLost when tok
	// no longer holds it.
	Renew(ctx context.Context, tok Token) error
	// Release frees the lease if tok still holds it; no error when it does
	// not.
	Release(ctx context.Context, tok Token) error
	// Offset is the last committed offset, 0 when never committed.
	Offset(ctx context.Context) (int64, error)
	// CommitOffset stores offset if tok holds the lease (ErrLost otherwise)
	// and offset is larger than the stored one: the stored offset never
	// moves backwards.
	CommitOffset(ctx context.Context, tok Token, offset int64) error
	// Holder is the holder name of the current holding, "" when free.
	Holder(ctx context.Context) (string, error)
}

// errNegativeOffset rejects offsets Telegram uses for "the last N updates":
// they are never a position to continue from.
var errNegativeOffset = errors.New("committing offset: negative offset")

// holderOf strips the "/<fence>" suffix of a stored lease value. The last
// slash is the separator, so holder names may contain slashes.
func holderOf(value string) string {
	for i := len(value) - 1; i >= 0; i-- {
		if value[i] == '/' {
			return value[:i]
		}
	}
	return value
}

func tokenValue(holder string, fence int64) string {
	return holder + "/" + strconv.FormatInt(fence, 10)
}

// LocalHolder is the holder name of a Local lease.
const LocalHolder = "local"

// Local is the lease of a node running alone: TryAcquire always succeeds
// and the offset lives in memory. Each acquisition supersedes the previous
// one (its token gets ErrLost), so fencing works as with Redis.
type Local struct {
	mu     sync.Mutex
	fence  int64
	held   string // value of the current token, "" when free
	offset int64
}

var _ Lease = (*Local)(nil)

// NewLocal returns a lease of a node running alone: always acquired, offset
// in memory.
func NewLocal() *Local { return &Local{} }

// TryAcquire always acquires, with a larger fence than any earlier token.
func (l *Local) TryAcquire(context.Context) (Token, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fence++
	tok := Token{Fence: l.fence, Value: tokenValue(LocalHolder, l.fence)}
	l.held = tok.Value
	return tok, true, nil
}

// Renew returns ErrLost when tok was released or superseded.
func (l *Local) Renew(_ context.Context, tok Token) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == "" || l.held != tok.Value {
		return ErrLost
	}
	return nil
}

// Release frees the lease if tok holds it.
func (l *Local) Release(_ context.Context, tok Token) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == tok.Value {
		l.held = ""
	}
	return nil
}

// Offset is the last committed offset, 0 when never committed.
func (l *Local) Offset(context.Context) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.offset, nil
}

// CommitOffset stores offset if tok holds the lease and offset is larger
// than the stored one.
func (l *Local) CommitOffset(_ context.Context, tok Token, offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w %d", errNegativeOffset, offset)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == "" || l.held != tok.Value {
		return ErrLost
	}
	l.offset = max(l.offset, offset)
	return nil
}

// Holder is LocalHolder while held, "" when free.
func (l *Local) Holder(context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == "" {
		return "", nil
	}
	return LocalHolder, nil
}

package supervision

import (
	"fmt"
	"time"
)

// Class is what can be done about an error.
type Class uint8

const (
	// Transient errors may go away on another attempt.
	Transient Class = iota + 1
	// RateLimited errors may go away after RetryAfter, never earlier.
	RateLimited
	// Permanent errors will not go away by retrying.
	Permanent
	// Cancelled means the work was stopped on purpose.
	Cancelled
)

func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case RateLimited:
		return "rate-limited"
	case Permanent:
		return "permanent"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Failure is the reason a stage escalates to its supervisor: the classified
// error and the words the user will read if the task fails with it.
type Failure struct {
	Class      Class
	RetryAfter time.Duration
	Reason     string
	Err        error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("%s failure: %v", f.Class, f.Err)
}

func (f *Failure) Unwrap() error { return f.Err }

// NewFailure classifies err and explains it.
func NewFailure(err error) *Failure {
	class, after := Classify(err)
	return &Failure{Class: class, RetryAfter: after, Reason: Explain(err), Err: err}
}

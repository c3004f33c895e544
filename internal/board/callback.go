package board

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxCallbackData is Telegram's limit on a button's callback data, in bytes.
const MaxCallbackData = 64

// Callback data of the status keyboard: a short verb and an argument, never a
// name or URL, so that it stays within MaxCallbackData.
const (
	// DataRefresh re-renders the status message.
	DataRefresh = "s:r"
	// DataCancelPrefix precedes a task ID: cancel that task.
	DataCancelPrefix = "c:"
	// DataPagePrefix precedes a 0-based page number: show that page.
	DataPagePrefix = "p:"
)

// ErrBadCallback is returned by ParseCallback for data the board did not
// produce (an old keyboard, or a forged query).
var ErrBadCallback = errors.New("unknown status callback data")

// ActionKind says what a status button asks for.
type ActionKind int

// The actions of the status keyboard.
const (
	ActionRefresh ActionKind = iota + 1
	ActionCancel
	ActionPage
)

// Action is a parsed status button press.
type Action struct {
	Kind   ActionKind
	TaskID string // for ActionCancel
	Page   int    // for ActionPage, 0-based
}

// CancelData returns the callback data of the cancel button of task id, and
// false when there can be no such button: an empty ID, or one that would make
// the data longer than MaxCallbackData bytes or not valid UTF-8.
func CancelData(id string) (string, bool) {
	data := DataCancelPrefix + id
	if id == "" || len(data) > MaxCallbackData || !utf8.ValidString(id) {
		return "", false
	}
	return data, true
}

// PageData returns the callback data of a button that shows page n (0-based).
func PageData(n int) string {
	return DataPagePrefix + strconv.Itoa(n)
}

// ParseCallback parses callback data made by Render. Anything else is an
// error wrapping ErrBadCallback, so that the caller can answer the query with
// a short alert instead of acting on it.
func ParseCallback(data string) (Action, error) {
	switch {
	case data == DataRefresh:
		return Action{Kind: ActionRefresh}, nil
	case strings.HasPrefix(data, DataCancelPrefix) && len(data) > len(DataCancelPrefix):
		return Action{Kind: ActionCancel, TaskID: data[len(DataCancelPrefix):]}, nil
	case strings.HasPrefix(data, DataPagePrefix):
		n, err := strconv.Atoi(data[len(DataPagePrefix):])
		if err != nil || n < 0 {
			return Action{}, fmt.Errorf("parsing page in %q: %w", data, ErrBadCallback)
		}
		return Action{Kind: ActionPage, Page: n}, nil
	default:
		return Action{}, fmt.Errorf("parsing %q: %w", data, ErrBadCallback)
	}
}

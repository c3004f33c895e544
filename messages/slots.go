package messages

// SlotKind names a per-node concurrency limit.
type SlotKind uint8

const (
	// SlotDownload limits concurrent downloads (MAX_CONCURRENT_DOWNLOADS).
	SlotDownload SlotKind = iota + 1
	// SlotUpload limits concurrent uploads (MAX_CONCURRENT_UPLOADS).
	SlotUpload
)

func (k SlotKind) String() string {
	if k == SlotUpload {
		return "upload"
	}
	return "download"
}

// AcquireSlot asks the node's slots actor for a slot of Kind. The requester
// gets SlotGranted, or SlotQueued (again each time its position changes),
// or SlotRefused when the request can never be granted. Force (owner and
// sudo, -f) skips the queue. Size is what the task expects to write to
// disk, 0 when unknown.
type AcquireSlot struct {
	Kind   SlotKind
	TaskID string
	Force  bool
	Size   int64
}

// SlotGranted answers AcquireSlot: the task may start the stage.
type SlotGranted struct {
	Kind   SlotKind
	TaskID string
}

// SlotQueued tells a waiting task its 1-based queue position.
type SlotQueued struct {
	Kind     SlotKind
	TaskID   string
	Position int
}

// SlotRefused answers an AcquireSlot that can never be granted; Reason is
// for the user.
type SlotRefused struct {
	Kind   SlotKind
	TaskID string
	Reason string
}

// ReleaseSlot gives a slot back (or leaves the queue). A requester that
// stops releases its slots implicitly.
type ReleaseSlot struct {
	Kind   SlotKind
	TaskID string
}

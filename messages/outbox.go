package messages

// Button is one inline keyboard button; Data is at most 64 bytes.
type Button struct {
	Text string
	Data string
}

// Keyboard is an inline keyboard, row by row.
type Keyboard [][]Button

// SendText asks the outbox to send a message. When sent with Request, the
// sender gets TextSent or SendFailed.
type SendText struct {
	ChatID   int64
	Text     string
	HTML     bool
	ReplyTo  int
	Keyboard Keyboard
	Silent   bool
}

// TextSent answers SendText.
type TextSent struct {
	ChatID    int64
	MessageID int
}

// EditText asks the outbox to edit a message. A pending edit of the same
// message is replaced, so only the newest text is ever sent. When sent with
// Request the sender gets TextEdited or SendFailed.
type EditText struct {
	ChatID    int64
	MessageID int
	Text      string
	HTML      bool
	Keyboard  Keyboard
}

// TextEdited answers EditText.
type TextEdited struct {
	ChatID    int64
	MessageID int
}

// DeleteMessage asks the outbox to delete a message; nobody is answered.
type DeleteMessage struct {
	ChatID    int64
	MessageID int
}

// AnswerCallback answers an inline button press.
type AnswerCallback struct {
	CallbackID string
	Text       string
	Alert      bool
}

// SendDocument asks the outbox to upload the byte range [Offset,
// Offset+Length) of Path as a document named FileName. The requester receives
// DocumentProgressed while it runs, then DocumentSent or SendFailed, all
// carrying RequestID.
type SendDocument struct {
	RequestID string
	ChatID    int64
	Path      string
	Offset    int64
	Length    int64
	FileName  string
	Caption   string
	HTML      bool
	ReplyTo   int
}

// DocumentProgressed reports the bytes of a document sent so far.
type DocumentProgressed struct {
	RequestID string
	Sent      int64
}

// DocumentSent answers SendDocument.
type DocumentSent struct {
	RequestID string
	MessageID int
}

// AbortSend cancels a queued or running SendDocument.
type AbortSend struct {
	RequestID string
}

// SendFailed answers SendText, EditText or SendDocument that failed for good
// (the outbox already waited out rate limits). Gone is set when the target
// message no longer exists or cannot be edited.
type SendFailed struct {
	RequestID string
	ChatID    int64
	MessageID int
	Err       error
	Gone      bool
}

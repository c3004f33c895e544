package messages

import "time"

// TaskSnapshot is what a chat's status board shows of one task.
type TaskSnapshot struct {
	TaskID   string
	UserID   int64
	Name     string
	Kind     Kind
	Stage    Stage
	Engine   string
	Done     int64
	Total    int64
	Speed    float64
	Started  time.Time
	Node     string
	Attempt  int
	QueuePos int
	Note     string
	// Torrent swarm figures; shown when the engine is torrent.
	Peers   int
	Seeders int
	UpSpeed float64
}

// TaskUpdated adds or refreshes a task on its chat's board.
type TaskUpdated struct {
	ChatID int64
	Task   TaskSnapshot
}

// TaskRemoved takes a finished task off its chat's board.
type TaskRemoved struct {
	ChatID int64
	TaskID string
}

// RepostBoard asks a chat's board to post its status message afresh (the
// /status command): the old message is deleted and a new one sent.
type RepostBoard struct {
	ChatID  int64
	ReplyTo int
}

// BoardButtonPressed forwards a status-message button (refresh, page) to the
// chat's board.
type BoardButtonPressed struct {
	ChatID     int64
	MessageID  int
	Data       string
	CallbackID string
}

// CancelByReply forwards "/cancel" sent as a reply to a message of the bot
// to the chat's board: when MessageID is the board's status message, the
// board picks the task meant (the replier's only task on it, or for an admin
// the only task at all) and routes a CancelTask to its user's session;
// otherwise it answers the chat why it cannot. Admin is set for the owner
// and sudo users.
type CancelByReply struct {
	ChatID    int64
	MessageID int
	ByUserID  int64
	Admin     bool
	ReplyTo   int
}

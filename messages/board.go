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

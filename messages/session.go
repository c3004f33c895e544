package messages

import "time"

// StartTask asks a user's session to accept and run a new task. The session
// assigns Spec.ID, checks limits and spawns the task.
type StartTask struct {
	Spec TaskSpec
}

// CancelTask asks a session to cancel one of its tasks. ByUserID is who asked:
// the owner of the task, or an admin (owner or sudo) when Admin is set.
// CallbackID is set when the request came from an inline button and must be
// answered.
type CancelTask struct {
	TaskID     string
	ByUserID   int64
	Admin      bool
	ChatID     int64
	ReplyTo    int
	CallbackID string
}

// SelectionPressed forwards a button of a torrent's file-selection message
// (-s) to the session that owns the task. Data is the button's data.
type SelectionPressed struct {
	TaskID     string
	ByUserID   int64
	ChatID     int64
	MessageID  int
	Data       string
	CallbackID string
}

// CancelAllTasks asks a session to cancel every task of its user. ByUserID
// is who asked: the user, or an admin when Admin is set (the session refuses
// anyone else).
//
// Without ReportNode the session tells the chat how many it cancelled. With
// it (an admin's cancel of every task in the cluster), the session answers
// TasksCancelled, carrying RequestID, to the gateway of the node at that
// address, which sums the answers of every session into one reply.
type CancelAllTasks struct {
	ByUserID   int64
	ChatID     int64
	ReplyTo    int
	Admin      bool
	RequestID  string
	ReportNode string
}

// TasksCancelled answers a CancelAllTasks that named a ReportNode: UserID's
// session cancelled Count tasks.
type TasksCancelled struct {
	RequestID string
	UserID    int64
	Count     int
}

// TaskEnded tells the session that one of its tasks reached a final stage and
// stopped.
type TaskEnded struct {
	TaskID string
	Stage  Stage
}

// TaskStageChanged is published on the actor system's event stream by a task
// each time it moves to another stage; node-level observers (statistics,
// metrics) count from it. From is zero for a new task. Entered is when the
// task entered From; Engine is the engine of the stage left.
type TaskStageChanged struct {
	TaskID  string
	UserID  int64
	Kind    Kind
	From    Stage
	To      Stage
	Engine  string
	Entered time.Time
}

// Transferred is published on the event stream when a stage has moved a
// result: a finished download (Direction "download", Via the engine) or a
// finished delivery (Direction "upload", Via the destination).
type Transferred struct {
	Direction string
	Via       string
	Bytes     int64
}

// TaskSnapshotted is published on the event stream with every snapshot a
// task pushes to its board, so node-level views (the status API, speed
// gauges) see what the users see.
type TaskSnapshotted struct {
	ChatID int64
	Task   TaskSnapshot
}

// ResumeTasks asks a session to reload its user's unfinished tasks from the
// store and run them again: sent for every such user when a node starts,
// and by the sweep of any node for tasks whose owner left the cluster.
type ResumeTasks struct {
	Reason ResumeReason
}

// ResumeReason says why tasks are resumed; it picks what the user is told.
type ResumeReason uint8

const (
	// ResumeRestart: the node that ran them restarted.
	ResumeRestart ResumeReason = iota
	// ResumeFailover: the node that ran them left the cluster or was lost.
	ResumeFailover
)

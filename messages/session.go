package messages

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

// CancelAllTasks asks a session to cancel every task of its user.
type CancelAllTasks struct {
	ByUserID int64
	ChatID   int64
	ReplyTo  int
}

// TaskEnded tells the session that one of its tasks reached a final stage and
// stopped.
type TaskEnded struct {
	TaskID string
	Stage  Stage
}

// TaskStageChanged is published on the actor system's event stream by a task
// each time it moves to another stage; node-level observers (statistics,
// metrics) count from it. From is zero for a new task.
type TaskStageChanged struct {
	TaskID string
	Kind   Kind
	From   Stage
	To     Stage
}

// ResumeTasks asks a session to reload its user's unfinished tasks from the
// store and run them again (sent for every such user when a node starts).
type ResumeTasks struct{}

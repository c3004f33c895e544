// Package task runs one task's pipeline. The task actor is a child of its
// user's session; it spawns the stages in turn (download, then upload; the
// archive stage slots in between when asked for), keeps the task's snapshot
// and pushes it to the chat's status board, and tells the user how it ended.
//
// Received: StageProgressed, DownloadFinished, UploadFinished, PartUploaded,
// GetUploadState (answered with UploadState), StageRetrying and StageGaveUp
// (from its supervisor strategy), CancelTask (from the session). Emitted:
// TaskUpdated / TaskRemoved to the chat board (through the grains router),
// the final message to the outbox, TaskStageChanged on the event stream, and
// TaskEnded to the session before it stops.
//
// Supervision: the task actor is the supervisor of its stages and its
// strategy is a supervision.StageStrategy: transient failures restart the
// stage after a backoff delay, the rest end the task with the reason in
// plain words. Whatever the end, the task's working directory is removed
// (after the stage has stopped, so no write can follow the removal).
//
// Ownership: with Options.Owner set, every write to the record checks that
// this member still holds the task. A write that finds another owner (this
// node was presumed lost and another took the task over) stops the task
// quietly: nothing is reported, written or removed here, since the task is
// the other node's now. A resumed task whose data is not on this node's
// disk downloads again and keeps the parts Telegram already confirmed.
package task

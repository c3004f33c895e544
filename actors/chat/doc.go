// Package chat is the status board of one chat: a cluster kind whose identity
// is the chat id. It keeps the latest snapshot of every task of the chat and
// one status message, which it edits in place every STATUS_INTERVAL, only
// when the rendered text changed (Telegram counts edits against flood limits).
//
// Received: messages.TaskUpdated, TaskRemoved, RepostBoard (/status),
// BoardButtonPressed (refresh, pages), CancelByReply ("/cancel" replying to
// the status message), TextSent / TextEdited / SendFailed (answers of the
// outbox) and NodeStats (the footer, from the cron actor).
// Emitted: SendText, EditText, DeleteMessage and AnswerCallback to the outbox,
// GetNodeStats to the cron actor, CancelTask to the session of the task a
// reply means.
//
// The board is a cache: tasks push their snapshots to it, so a board that is
// restarted is whole again within one progress report of each task. When the
// last task leaves, the status message is deleted. If the message was
// deleted by someone else, the next tick posts a new one.
package chat

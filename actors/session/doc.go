// Package session is the per-user session: a cluster kind whose identity is
// the Telegram user id, so each user's tasks live on exactly one node. The
// session owns the user's task table and is the parent (and supervisor) of
// the user's task actors.
//
// Received: StartTask (assigns the task id and working directory, spawns the
// task), CancelTask, CancelAllTasks, TaskEnded, and the children's
// Terminated. Emitted: CancelTask to its tasks, and replies to the user
// through the outbox (cancel confirmations, "no such task", refusals).
//
// A session is a cache with an identity: all it holds is the table of its
// running children. Task records become durable with the store of the next
// stage of the project, from which an activation reloads them.
//
// Failure: a task actor that crashes (a bug: tasks handle their errors as
// values) is stopped, and the user is told that it failed.
package session

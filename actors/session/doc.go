// Package session is the per-user session: a cluster kind whose identity is
// the Telegram user id, so each user's tasks live on exactly one node. The
// session owns the user's task table and is the parent (and supervisor) of
// the user's task actors.
//
// Received: StartTask (checks the per-user limit, assigns the task id, writes
// the task's record to the store and spawns the task once the record is
// durable), ResumeTasks (reloads the user's unfinished tasks from the store
// and runs them again in their recorded stage, telling the user once),
// CancelTask, CancelAllTasks, TaskEnded, and the children's Terminated.
// Emitted: CancelTask to its tasks, replies to the user through the outbox
// (resume notices, cancel confirmations, "no such task", refusals), and
// TasksCancelled to the gateway that asked, when an admin's /cancelall
// counts the tasks of every session. CancelTask and CancelAllTasks from
// anyone but the user are refused unless marked as an admin's.
//
// In a cluster a task runs only on the member that holds it: new tasks are
// written with this member as owner, and ResumeTasks claims each task
// atomically (store.ClaimTask) and skips those a live member holds. When a
// session stops (node shutdown, or the cluster moved the user to another
// member) it releases its tasks, so the sweeper of any node sends them to
// the user's new session at once. The per-user task limit is counted from
// the store, so it holds across nodes.
//
// A session is a cache with an identity: all it holds is the table of its
// running children; what must survive is in the store, and ResumeTasks is
// idempotent (tasks already running are skipped).
//
// Failure: a task actor that crashes (a bug: tasks handle their errors as
// values) is stopped, and the user is told that it failed.
package session

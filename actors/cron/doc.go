// Package cron is the node's maintenance actor (top-level, named
// messages.CronName). It owns two things: the node's own statistics and the
// scheduled maintenance of DOWNLOAD_DIR, the task store and the node's
// health.
//
// # Statistics
//
// It samples CPU, memory and the disk of DOWNLOAD_DIR on a fixed period,
// counts the node's tasks by stage from the TaskStageChanged events on the
// actor system's event stream, answers GetNodeStats (chat boards use it for
// their footer) and renders /stats (ShowStats) through the outbox.
//
// # Maintenance
//
// Two jobs run on schedules. Cleanup (Options.CleanupSchedule, cron syntax,
// default @daily) removes every entry of DOWNLOAD_DIR whose name is not the
// id of an unfinished task in the store, then deletes the records of tasks
// that finished more than Options.Retention ago. It never removes the data
// of a live or queued task: it lists the directory before the store, so
// data it saw belongs to a record it will see; it keeps entries changed
// within OrphanMinAge, for data whose record is not written yet; it keeps
// hidden entries (".name"), which belong to other components; and without a
// store it does not run at all. Health (every Options.HealthInterval) pings
// the store, checks that DOWNLOAD_DIR has free space and at least
// Options.MinFreeDisk, and probes the Bot API. A problem is reported to the
// owner once when it starts and once when it clears, never per interval; in
// a cluster, Options.Notices (internal/notice) lets one node report each
// problem of the shared store or Bot API, and each node its own disk. An
// unreachable Bot API cannot be reported through itself: it is logged, the
// other notices wait, and once it answers the owner learns how long it was
// down.
//
// Schedules are parsed with github.com/robfig/cron/v3, the standard
// cron-expression parser of the Go ecosystem and the one internal/config
// validates CLEANUP_SCHEDULE with. Only its parser is used: the actor
// computes the next run with Schedule.Next on its injectable clock
// (Options.Now) and arms a one-shot timer that messages itself; on that
// message it checks the clock again, so a timer that fires early or a clock
// that jumps causes at most one run. A job runs once at a time; a run that
// comes due while the previous one works is skipped.
//
// # Concurrency
//
// Receive never blocks: sampling, cleanup and the health probes run in
// worker goroutines that hold only the actor's PID and the root context and
// report by message; they stop when the actor stops or restarts. The
// event-stream subscription only forwards to the actor; all state is touched
// only by the actor. Options.OnSample and Options.OnJob are called on the
// actor.
//
// # Failure
//
// A failed sample is logged and the previous one is kept. A cleanup error
// is logged at warn level and reported in JobReport.Err; cleanup removes
// nothing when it cannot list the unfinished tasks, and a file it cannot
// remove does not stop it. A health probe that does not answer within 30 s
// (or the interval, if shorter) counts as failed. An invalid cleanup
// schedule (config validates it first) is logged and disables cleanup; the
// actor itself never fails.
package cron

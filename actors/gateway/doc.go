// Package gateway is Telegram's way in. Its actor long-polls the Bot API in a
// worker goroutine, parses commands, checks authorization and routes work to
// the users' sessions and the chats' boards through the grains router. It
// owns the run-time authorization list (persisted in the store).
//
// Received: updates from its poller, TextSent (for /ping), TasksCancelled
// (sessions counting an admin's /cancelall) and the poller's and store's
// reports. Emitted: StartTask, CancelTask, CancelAllTasks to sessions;
// RepostBoard, BoardButtonPressed and CancelByReply to chat boards;
// ShowStats to the cron actor; replies (help, refusals, usage errors) to the
// outbox.
//
// Cancelling: "/cancel ID" and "/cancel" replying to a task's command read
// the task's record in a worker, to route the CancelTask to the session of
// the task's user wherever it runs (users cancel their own tasks, the owner
// and sudo users any); "/cancel" replying to the status message goes to the
// chat's board, which knows the tasks it shows. An admin's /cancelall asks
// for confirmation with buttons that expire (ConfirmTTL) and carry all a
// press needs, then asks every session with unfinished tasks to cancel them
// and to report its count to this gateway, and edits the confirmation with
// the total once all answered or CancelAllWait passed.
//
// Nothing is fetched for an unauthorized user: the refusal is the only
// reply. Unknown commands addressed to another bot are ignored.
//
// Polling runs only while the node holds the poller lease (internal/lease:
// always held by a node alone, a fenced Redis lease in a cluster), so
// exactly one node of a cluster polls. The update offset lives with the
// lease: a batch is dispatched to the actor first, then its end is
// committed (fenced by the lease token) and confirmed to Telegram, so a
// node that takes over polling starts right after the last dispatched
// update. A holding that ends confirms its last batch to Telegram on the
// way out, even when Redis lost the stored offset. Per-user command rate
// limits are counted by a ratelimit.Limiter (Redis in a cluster) in the
// poller goroutine, never in Receive; a limiter that does not answer lets
// the command through.
//
// Failure: the poller retries failed polls with backoff (a 409 conflict
// means another instance polls the same token; it is logged and retried).
// A node killed between dispatching a batch and committing it repeats that
// batch on the next poller: /mirror and /leech are recognised by their
// command message and not started twice; a repeated /ping or /status gets a
// second answer.
package gateway

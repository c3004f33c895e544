// Package gateway is Telegram's way in. Its actor long-polls the Bot API in a
// worker goroutine, parses commands, checks authorization and routes work to
// the users' sessions and the chats' boards through the grains router. It
// owns the run-time authorization list (persisted in the store).
//
// Received: updates from its poller, TextSent (for /ping) and the poller's
// and store's reports. Emitted: StartTask, CancelTask, CancelAllTasks to
// sessions; RepostBoard and BoardButtonPressed to chat boards; ShowStats to
// the cron actor; replies (help, refusals, usage errors) to the outbox.
//
// Nothing is fetched for an unauthorized user: the refusal is the only
// reply. Unknown commands addressed to another bot are ignored.
//
// Failure: the poller retries failed polls with backoff (a 409 conflict
// means another instance polls the same token; it is logged and retried).
// Updates are confirmed by the next poll's offset, so an update whose
// processing was interrupted by a crash is delivered again after a restart.
package gateway

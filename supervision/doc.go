// Package supervision owns mirrorleech's failure policy: the error classes, the
// classifier that maps engine errors onto them, the plain-words explanation a
// user sees, and the restart strategy that carries every stage retry.
//
// # Classes
//
// Every error an engine returns is classified once, here, as Transient (worth
// another attempt: network blips, 5xx, stalls), RateLimited (another attempt,
// but never before RetryAfter), Permanent (404, a blocked address, a full
// disk, a file over a limit: retrying cannot help) or Cancelled (the user or
// the node stopped the work; nothing to report).
//
// # Restarts
//
// A stage actor (download, archive, upload) that meets an error escalates a
// *Failure to its parent, the task actor, whose StageStrategy decides: a
// transient or rate-limited failure restarts the stage after a delay from
// cenkalti/backoff/v4 (exponential, jittered, bounded by attempts and elapsed
// time; RetryAfter is a floor), a permanent one stops it at once. When the
// strategy stops a stage it tells the task with messages.StageGaveUp; before a
// delayed restart it sends messages.StageRetrying. protoactor's own
// exponential strategy is linear and never gives up, so it is not used.
//
// The strategy's state lives in the task actor that owns it and is touched
// only on that actor's goroutine (protoactor runs HandleFailure there).
package supervision

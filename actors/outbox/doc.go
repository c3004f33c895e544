// Package outbox is the node's only sender to Telegram. Every message, edit,
// deletion, callback answer and document upload of the node goes through its
// one actor, so flood control is enforced in one place instead of being
// hoped for in many.
//
// # Protocol
//
// Received: messages.SendText, EditText, DeleteMessage, AnswerCallback,
// SendDocument, AbortSend. Answered (to the sender of a Request): TextSent,
// TextEdited, DocumentSent, SendFailed; DocumentProgressed is sent to the
// requester while an upload runs. DeleteMessage and AnswerCallback are never
// answered.
//
// # Scheduling
//
// Each chat has two lanes, one for texts and edits and one for documents, so
// a long upload does not freeze that chat's status message. A lane runs one
// call at a time, in order; before each call the flood limiter (≈1/s per
// chat, 20/min per group, 30/s overall) must allow it; in a cluster the
// call's worker then also waits for a reservation in the shared limiter
// (flood.Shared in Redis), since every node sends for the same bot. A pending edit of a
// message is replaced by a newer edit of the same message, so a slow chat
// receives only the latest status.
//
// # Length
//
// Telegram refuses a text over 4096 characters or a caption over 1024
// (UTF-16 units after entity parsing) with 400, and the message is lost.
// Every text, edit, caption and callback answer is therefore fitted to its
// limit just before the call (tgtext.Fit: escape-aware, tags closed), and a
// fitted text is logged: composers are meant to shorten what they echo.
//
// # Failures
//
// A 429 parks the chat for retry_after (+ jitter) and puts the call back at
// the head of its lane: it is retried once the wait is over, never earlier,
// and it is not counted as an attempt, so exactly one copy arrives. Other
// transient errors (5xx, network) are retried with backoff up to three times
// for texts and edits; a failed document is reported to its requester at
// once, whose supervisor decides about the retry (uploads resume by part).
// "message is not modified" counts as success; an edit or delete of a message
// that is gone is answered with SendFailed{Gone: true}.
//
// Calls run in worker goroutines owned by the actor and cancelled when it
// stops; Receive never waits on the network.
package outbox

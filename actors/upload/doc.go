// Package upload is the upload stage of a task: it delivers the downloaded
// result to its destination. Leech sends it into the chat as documents
// through the outbox, split into parts of at most the split size; mirror
// moves it into the destination directory (write aside, then rename).
//
// Received: the lifecycle messages; from the task, UploadState (the parts
// already delivered) and PartRecorded (a part is in the store); from the
// outbox, DocumentProgressed, DocumentSent and
// SendFailed. Emitted to the task: StageProgressed, PartUploaded (as soon as
// Telegram confirms a part; the next part waits for PartRecorded) and
// UploadFinished.
//
// Idempotence: a (re)started leech asks the task which parts are confirmed
// and skips them, so a retry never posts a part twice; a part that failed
// mid-way is sent again whole, since Telegram never shows a half document.
//
// Failure: errors are escalated as classified supervision failures to the
// task, whose strategy restarts the stage or gives up. On stop, an upload in
// flight is aborted at the outbox and a mirror copy is cancelled and awaited.
package upload

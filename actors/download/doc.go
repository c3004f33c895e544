// Package download is the download stage of a task: one actor per attempt
// that drives a download engine in a worker goroutine.
//
// Received: actor lifecycle messages and the worker's reports. Emitted to the
// parent task: messages.StageProgressed while the engine runs, then
// messages.DownloadFinished. The parent stops the stage after the result
// (a stage that stopped itself could overtake its own result).
//
// Size: Options.MaxSize (MAX_TASK_SIZE) binds tasks of users who are not
// owner or sudo. The stage refuses a known size at once; the engines refuse
// a declared size before reserving disk and cut what actually arrives at the
// limit (HTTP and Telegram), and a torrent is checked against its selected
// files when the metadata is known, before any piece is requested.
//
// Failure: an engine error is escalated to the task as a classified
// supervision.Failure; the task's strategy restarts the stage after a backoff
// delay or gives up. A restarted stage resumes from what is on disk (the HTTP
// engine keeps its control file and partial data), so a retry never starts
// over unless the remote changed. On stop or restart the worker is cancelled
// and awaited (bounded), so a successor never races it on the same files and
// the task may delete partial data as soon as the stage has terminated.
package download

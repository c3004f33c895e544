// Package archive is the archive stage of a task: one actor per attempt
// that zips (-z) and/or extracts (-e) the download's result in a worker
// goroutine, with the engine in internal/archive.
//
// Received: actor lifecycle messages and the worker's reports. Emitted to
// the parent task: messages.StageProgressed (Stage archiving, Note
// "extracting" or "zipping", input bytes done and total, speed) while the
// worker runs, then messages.ArchiveFinished: the zip (named Spec.Name, or
// the input's name, plus ".zip"), or the extracted result: when the
// extraction holds exactly one file or folder at its top, that item (so
// album.zip holding album/ delivers album/), else the folder named after
// the archive. With both -e and -z the extracted tree is zipped and then
// removed. The parent stops the stage after the result.
//
// Output lives under Dir/archive/run-*/, one folder per attempt: an attempt
// first removes Dir/archive, so a restarted stage starts over in a clean
// folder and never delivers half a tree from an earlier attempt. The input
// is never changed or removed (the task decides). An extraction may write
// at most Options.MaxExtract (MAX_EXTRACT_SIZE), for a task of a user who
// is neither owner nor sudo at most Options.MaxTaskSize (MAX_TASK_SIZE),
// and never more than the free space of the task folder less FreeReserve;
// the error names the limit that was reached. Entries the engine refuses
// (unsafe paths, links, special files) are left out and the rest is
// delivered: ArchiveFinished.Warning says how many and why, for the task's
// final message.
//
// Failure: the engine's archive errors (wrong or missing password, damaged
// archive, not an archive, unsupported, a safety limit) are escalated as
// permanent supervision.UserError values whose text names the archive and
// the problem; other errors (the disk's) are escalated as they are for the
// supervisor to classify. On stop or restart the worker is cancelled and
// awaited (bounded by StopWait); the engine removes its partial output and
// the worker its attempt folder before it ends.
package archive

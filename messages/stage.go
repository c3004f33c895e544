package messages

import "time"

// StageProgressed reports the progress of the running stage to its task.
type StageProgressed struct {
	Stage Stage
	Name  string
	Done  int64
	Total int64 // ≤ 0 when unknown
	Speed float64
	Note  string
	// Torrent downloads also report their swarm and upload rate.
	Peers   int
	Seeders int
	UpSpeed float64
}

// DownloadFinished reports a completed download: Path is the file (or folder)
// on disk, Name its display name.
type DownloadFinished struct {
	Path string
	Name string
	Size int64
}

// ArchiveFinished reports a completed archive stage: Path is the zip, or the
// folder (or single file) of the extracted result, Name its display name.
// Warning, when set, is for the task's final message: what the extraction
// left out ("1 entry skipped: unsafe path").
type ArchiveFinished struct {
	Path    string
	Name    string
	Size    int64
	Warning string
}

// TorrentFile is one file of a torrent, as offered for selection (-s).
// Path is relative to the torrent's root, slash-separated.
type TorrentFile struct {
	Index int
	Path  string
	Size  int64
}

// ChooseFiles is sent by a download stage to its task once a torrent's file
// list is known and the user asked to select (-s); the task asks the user
// and answers FilesChosen.
type ChooseFiles struct {
	Files []TorrentFile
}

// FilesChosen answers ChooseFiles with the indices of the files to download.
type FilesChosen struct {
	Indices []int
}

// UploadFinished reports a completed delivery.
type UploadFinished struct {
	// Where says where the result went, in words for the user
	// ("this chat, 3 parts", "/srv/mirror/file.iso").
	Where string
	Parts int
	Size  int64
}

// StageGaveUp reports that a stage gave up: a permanent error, or a transient
// one after the last retry. Reason is safe to show to the user.
type StageGaveUp struct {
	Stage    Stage
	Reason   string
	Err      error
	Attempts int
}

// StageRetrying tells the task that the supervisor will restart its stage
// after Delay (attempt Attempt is next).
type StageRetrying struct {
	Stage   Stage
	Attempt int
	Delay   time.Duration
	Reason  string
}

// GetUploadState is asked by a (re)started upload stage; the task answers with
// UploadState, the parts already delivered, so a retry never re-sends them.
type GetUploadState struct{}

// UploadState lists delivered parts: part index → Telegram message id.
type UploadState struct {
	Parts map[int]int
}

// PartUploaded is sent (with Request) by the upload stage to its task as
// soon as a part is confirmed by Telegram; the task answers PartRecorded once
// the part is in the store, and only then does the next part start.
type PartUploaded struct {
	Index     int
	MessageID int
}

// PartRecorded answers PartUploaded.
type PartRecorded struct {
	Index int
}

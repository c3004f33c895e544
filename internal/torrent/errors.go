package torrent

import "errors"

// Sentinel errors. Download wraps them with %w; their messages are written
// for the user who sent the torrent.
var (
	// ErrBadTorrent: the magnet link or .torrent file cannot be parsed, or
	// its file names are unsafe (empty, ".", "..", or containing "/").
	// Permanent.
	ErrBadTorrent = errors.New("this is not a valid torrent or magnet link")
	// ErrStalled: no metadata, or no new data, arrived for
	// Request.StallTimeout; the wrapping message says which and how long.
	// Transient: peers may come back later.
	ErrStalled = errors.New("the torrent stalled")
	// ErrNothingSelected: the selection chose no file. Permanent.
	ErrNothingSelected = errors.New("no file of the torrent was selected")
	// ErrClosed: the client was closed (the node is stopping). Transient:
	// the task resumes on the next start.
	ErrClosed = errors.New("the torrent client was shut down")
	// ErrDuplicate: another task of this node is downloading the same
	// torrent (same info hash) right now. Permanent for this task.
	ErrDuplicate = errors.New("this torrent is already being downloaded by another task")
)

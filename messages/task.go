package messages

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Kind says where a task's result goes.
type Kind uint8

const (
	// Mirror copies the result to a destination (a directory).
	Mirror Kind = iota + 1
	// Leech uploads the result back into the chat.
	Leech
)

func (k Kind) String() string {
	switch k {
	case Mirror:
		return "mirror"
	case Leech:
		return "leech"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Stage is where a task is in its pipeline:
// queued → downloading → archiving → uploading → done | failed | cancelled.
type Stage uint8

const (
	StageQueued Stage = iota + 1
	StageDownloading
	StageArchiving
	StageUploading
	StageDone
	StageFailed
	StageCancelled
)

func (s Stage) String() string {
	switch s {
	case StageQueued:
		return "queued"
	case StageDownloading:
		return "downloading"
	case StageArchiving:
		return "archiving"
	case StageUploading:
		return "uploading"
	case StageDone:
		return "done"
	case StageFailed:
		return "failed"
	case StageCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// Final reports whether the stage ends the task.
func (s Stage) Final() bool { return s >= StageDone }

// TelegramFile is a document posted in a chat, fetched through getFile.
type TelegramFile struct {
	FileID string
	Name   string
	Size   int64
	MIME   string
}

// Source is what a task downloads: exactly one field is set.
type Source struct {
	URL  string
	File *TelegramFile
}

// Engine names the download engine that serves the source: "torrent" for
// magnet links and .torrent files (linked or posted), "telegram" for other
// posted files, "http" for other links.
func (s Source) Engine() string {
	if s.IsTorrent() {
		return "torrent"
	}
	if s.File != nil {
		return "telegram"
	}
	return "http"
}

// IsTorrent reports whether the source is a magnet link or a .torrent file.
// A link counts by its path ending in .torrent (the query is ignored), a
// posted file by its name or MIME type.
func (s Source) IsTorrent() bool {
	if s.File != nil {
		return strings.HasSuffix(strings.ToLower(s.File.Name), ".torrent") || s.File.MIME == "application/x-bittorrent"
	}
	if s.IsMagnet() {
		return true
	}
	if u, err := url.Parse(s.URL); err == nil {
		return strings.HasSuffix(strings.ToLower(u.Path), ".torrent")
	}
	return false
}

// IsMagnet reports whether the source is a magnet link.
func (s Source) IsMagnet() bool {
	return s.File == nil && len(s.URL) >= 7 && strings.EqualFold(s.URL[:7], "magnet:")
}

// SeedLimits say how long a finished torrent keeps seeding: until it has
// uploaded Ratio times its size or for Time, whichever comes first. A zero
// field is no limit of that kind; both zero means no seeding.
type SeedLimits struct {
	Ratio float64
	Time  time.Duration
}

// Enabled reports whether the torrent seeds at all.
func (l SeedLimits) Enabled() bool { return l.Ratio > 0 || l.Time > 0 }

// TaskSpec is everything a task needs to run; it is what a resume reloads.
type TaskSpec struct {
	ID      string
	UserID  int64
	ChatID  int64
	ReplyTo int // the command message, so results thread under it
	Kind    Kind
	Source  Source
	// Name renames the result (-n); empty keeps the source's name.
	Name string
	// Dest is the mirror destination directory (mirror tasks).
	Dest string
	// SplitSize is the largest part a leech uploads.
	SplitSize int64
	// Force skips the node's queues (-f, owner and sudo only).
	Force bool
	// Privileged marks a task of the owner or a sudo user: exempt from the
	// per-user limits and the size limit.
	Privileged bool
	Created    time.Time
	// Zip delivers the result as one .zip (-z), AES-256 encrypted when
	// ZipPassword is set.
	Zip         bool
	ZipPassword string
	// Extract unpacks archives in the result before delivery (-e), with
	// ExtractPassword for encrypted ones.
	Extract         bool
	ExtractPassword string
	// Select asks the user which files of a torrent to download (-s).
	Select bool
	// Seed is how long a finished torrent seeds (-d, or the node's
	// defaults); the delivery never waits for it.
	Seed SeedLimits
}

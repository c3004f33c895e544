package torrent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
)

// Layout of a Request.Dir.
const (
	dataDir       = "data"     // the torrent's files, with their folders
	stateDir      = ".torrent" // the engine's state
	infoFile      = "info"     // the bencoded info dictionary once known
	selectionFile = "selection.json"
	completeFile  = "complete.json"
)

// taskState is the storage of one Download: the file storage of
// Dir/data and the bolt piece completion of Dir/.torrent, which survives
// restarts so that verified pieces are not hashed or fetched again.
type taskState struct {
	dir     string // Request.Dir, absolute
	pc      storage.PieceCompletion
	storage storage.ClientImplCloser
}

func openState(dir string) (*taskState, error) {
	for _, d := range []string{filepath.Join(dir, dataDir), filepath.Join(dir, stateDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	// Bolt, not the library's DataDir default: that one never resumes
	// (docs/torrent-library.md §3). NewBoltPieceCompletion waits 1 s for the
	// lock and then fails, which beats the default's silent fallback to
	// memory.
	pc, err := storage.NewBoltPieceCompletion(filepath.Join(dir, stateDir))
	if err != nil {
		return nil, fmt.Errorf("opening the piece database in %s: %w", filepath.Join(dir, stateDir), err)
	}
	st := storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir:   filepath.Join(dir, dataDir),
		PieceCompletion: pc,
		// Final names from the start: part files are renamed only when a
		// whole file completes, and their pieces are then forgotten.
		UsePartFiles: g.Some(false),
	})
	return &taskState{dir: dir, pc: pc, storage: st}, nil
}

// close closes the bolt database (the file storage holds no handles of its
// own once the torrent is dropped).
func (s *taskState) close() error {
	if err := s.storage.Close(); err != nil {
		return fmt.Errorf("closing the piece database: %w", err)
	}
	return nil
}

func (s *taskState) path(name string) string { return filepath.Join(s.dir, stateDir, name) }

// loadInfo returns the info bytes saved by an earlier run if they hash to
// ih, so a resumed magnet needs no metadata from peers.
func (s *taskState) loadInfo(ih metainfo.Hash) []byte {
	b, err := os.ReadFile(s.path(infoFile))
	if err != nil || metainfo.HashBytes(b) != ih {
		return nil
	}
	return b
}

func (s *taskState) saveInfo(b []byte) error {
	if old, err := os.ReadFile(s.path(infoFile)); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return writeFileAtomic(s.path(infoFile), b)
}

// savedChoice is the content of selection.json and complete.json.
type savedChoice struct {
	InfoHash string `json:"info_hash"`
	Files    []int  `json:"files"`
}

func (s *taskState) loadChoice(name string, ih metainfo.Hash) ([]int, bool) {
	b, err := os.ReadFile(s.path(name))
	if err != nil {
		return nil, false
	}
	var c savedChoice
	if json.Unmarshal(b, &c) != nil || c.InfoHash != ih.HexString() {
		return nil, false
	}
	return c.Files, true
}

func (s *taskState) saveChoice(name string, ih metainfo.Hash, files []int) error {
	b, err := json.Marshal(savedChoice{InfoHash: ih.HexString(), Files: files})
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return writeFileAtomic(s.path(name), b)
}

func (s *taskState) removeChoice(name string) error {
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	return nil
}

// writeFileAtomic writes b to name through a synced temporary file and a
// rename, so a crash leaves the old content or the new, never a torn file.
func writeFileAtomic(name string, b []byte) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// sortedUnique returns the indices sorted without duplicates.
func sortedUnique(idx []int) []int {
	out := slices.Clone(idx)
	slices.Sort(out)
	return slices.Compact(out)
}

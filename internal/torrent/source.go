package torrent

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	infohash_v2 "github.com/anacrolix/torrent/types/infohash-v2"
)

// parseSource turns the request's magnet or .torrent bytes into a spec for
// the library, and returns the key the client indexes the torrent by (the
// v1 info hash, or the truncated v2 hash of a v2-only torrent).
func parseSource(r Request) (*atorrent.TorrentSpec, metainfo.Hash, error) {
	var (
		spec *atorrent.TorrentSpec
		err  error
	)
	switch {
	case r.Magnet != "" && len(r.MetaInfo) != 0:
		return nil, metainfo.Hash{}, errors.New("the request has both a magnet link and a .torrent file")
	case r.Magnet != "":
		spec, err = atorrent.TorrentSpecFromMagnetUri(strings.TrimSpace(r.Magnet))
		if err != nil {
			return nil, metainfo.Hash{}, fmt.Errorf("%w: reading the magnet link: %v", ErrBadTorrent, err)
		}
	case len(r.MetaInfo) != 0:
		mi, err := metainfo.Load(bytes.NewReader(r.MetaInfo))
		if err != nil {
			return nil, metainfo.Hash{}, fmt.Errorf("%w: reading the .torrent file: %v", ErrBadTorrent, err)
		}
		spec, err = atorrent.TorrentSpecFromMetaInfoErr(mi)
		if err != nil {
			return nil, metainfo.Hash{}, fmt.Errorf("%w: reading the .torrent file: %v", ErrBadTorrent, err)
		}
		info, err := mi.UnmarshalInfo()
		if err != nil {
			return nil, metainfo.Hash{}, fmt.Errorf("%w: reading the .torrent file: %v", ErrBadTorrent, err)
		}
		if err := checkInfo(&info); err != nil {
			return nil, metainfo.Hash{}, err
		}
	default:
		return nil, metainfo.Hash{}, errors.New("the request has neither a magnet link nor a .torrent file")
	}
	key := spec.InfoHash
	if key.IsZero() && spec.InfoHashV2.Ok {
		key = *spec.InfoHashV2.Value.ToShort()
	}
	if key.IsZero() {
		return nil, metainfo.Hash{}, fmt.Errorf("%w: it has no info hash", ErrBadTorrent)
	}
	return spec, key, nil
}

// infoMatches reports whether saved info bytes belong to the torrent key.
func infoMatches(b []byte, key metainfo.Hash) bool {
	if len(b) == 0 {
		return false
	}
	v2 := infohash_v2.HashBytes(b)
	return metainfo.HashBytes(b) == key || *v2.ToShort() == key
}

// checkInfo refuses names that could leave the download folder or that no
// file system can hold. The library also refuses paths outside its base
// directory; this gives the user a clear reason before anything is written.
func checkInfo(info *metainfo.Info) error {
	if !safeName(info.BestName()) {
		return fmt.Errorf("%w: its name %q cannot be used as a file name", ErrBadTorrent, info.BestName())
	}
	if !info.IsDir() {
		return nil
	}
	for _, fi := range info.UpvertedFiles() {
		p := fi.BestPath()
		if len(p) == 0 {
			return fmt.Errorf("%w: a file has an empty path", ErrBadTorrent)
		}
		for _, c := range p {
			if !safeName(c) {
				return fmt.Errorf("%w: the file path %q cannot be used", ErrBadTorrent, strings.Join(p, "/"))
			}
		}
	}
	return nil
}

func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00")
}

// isPadding reports a BEP 47 padding file: filler that aligns the next
// file to a piece boundary, never shown or delivered.
func isPadding(fi metainfo.FileInfo) bool {
	return strings.Contains(fi.Attr, "p")
}

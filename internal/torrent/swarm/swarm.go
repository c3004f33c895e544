package swarm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	g "github.com/anacrolix/generics"
	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"golang.org/x/time/rate"
)

// DefaultPieceLength is the piece length of torrents built here unless
// Options.PieceLength says otherwise.
const DefaultPieceLength = 256 << 10

// Options shape a seeder and the torrent it serves.
type Options struct {
	// Name is the torrent's name: the root folder of a multi-file torrent.
	// With a single entry in files and no Name, the torrent is single-file
	// and the entry's key is its name. Default "payload".
	Name string
	// PieceLength of the torrent, a power of two ≥ 16 KiB; default 256 KiB.
	PieceLength int64
	// UploadRateLimit caps the seeder's upload in bytes per second (0: none),
	// with a burst of 1/20 s (at least 64 KiB).
	UploadRateLimit int64
	// Announce is a tracker URL written into the .torrent and announced to.
	Announce string
}

// Seeder is a client seeding one complete torrent on 127.0.0.1.
type Seeder struct {
	MetaInfo    []byte // the .torrent file
	Magnet      string // magnet link with dn, tr (if any) and x.pe=Addr
	Addr        string // "127.0.0.1:port" of the seeder
	InfoHash    string // hex
	Name        string // the torrent's name
	Root        string // the data on disk: the file, or the root folder
	Size        int64  // total bytes
	PieceLength int64

	cl   *torrent.Client
	t    *torrent.Torrent
	st   storage.ClientImplCloser
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewSeeder writes files (slash-separated paths relative to the torrent's
// root) into a temporary folder, builds a torrent of them and seeds it
// until the test ends. It returns once every piece is verified.
func NewSeeder(tb testing.TB, files map[string][]byte, opts Options) *Seeder {
	tb.Helper()
	parent := tb.TempDir()
	name, single := opts.Name, false
	if name == "" && len(files) == 1 {
		for k := range files {
			name, single = k, true
		}
	}
	if name == "" {
		name = "payload"
	}
	root := filepath.Join(parent, name)
	for p, data := range files {
		dst := root
		if !single {
			dst = filepath.Join(root, filepath.FromSlash(p))
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			tb.Fatalf("swarm: %v", err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			tb.Fatalf("swarm: %v", err)
		}
	}
	mi, err := BuildMetaInfo(root, opts.PieceLength, opts.Announce)
	if err != nil {
		tb.Fatalf("swarm: %v", err)
	}
	s, err := Seed(mi, parent, opts.UploadRateLimit)
	if err != nil {
		tb.Fatalf("swarm: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// BuildMetaInfo hashes the file or folder root into a .torrent file
// (pieceLength 0 = DefaultPieceLength), with announce as its tracker if
// not empty.
func BuildMetaInfo(root string, pieceLength int64, announce string) ([]byte, error) {
	if pieceLength == 0 {
		pieceLength = DefaultPieceLength
	}
	info := metainfo.Info{PieceLength: pieceLength}
	if err := info.BuildFromFilePath(root); err != nil {
		return nil, fmt.Errorf("hashing %s: %w", root, err)
	}
	infoBytes, err := bencode.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encoding the info of %s: %w", root, err)
	}
	mi := metainfo.MetaInfo{InfoBytes: infoBytes, CreatedBy: "mirrorleech swarm", CreationDate: time.Now().Unix()}
	if announce != "" {
		mi.Announce = announce
	}
	var buf bytes.Buffer
	if err := mi.Write(&buf); err != nil {
		return nil, fmt.Errorf("encoding the .torrent of %s: %w", root, err)
	}
	return buf.Bytes(), nil
}

// newClient returns a loopback-only client with the 16 MiB upload budget.
func newClient(uploadRateLimit int64, trackers bool) (*torrent.Client, error) {
	cfg := torrent.NewDefaultClientConfig()
	cfg.ListenHost = func(string) string { return "127.0.0.1" }
	cfg.ListenPort = 0
	cfg.NoDHT = true
	cfg.DisableTrackers = !trackers
	cfg.DisablePEX = true
	cfg.NoDefaultPortForwarding = true
	cfg.DisableUTP = true
	cfg.DisableWebtorrent = true
	cfg.DisableWebseeds = true
	cfg.DisableIPv6 = true
	cfg.Seed = true
	// Each torrent here brings its storage; the default one would open a
	// piece database in the working directory.
	cfg.DefaultStorage = storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir: os.TempDir(), PieceCompletion: storage.NewMapPieceCompletion(), UsePartFiles: g.Some(false),
		Logger: slog.New(slog.DiscardHandler),
	})
	cfg.MaxAllocPeerRequestDataPerConn = 16 << 20
	// A connection's writer can miss its wake-up and sleep until the next
	// keep-alive (see the torrent engine's writerWakeBound); a second keeps
	// a test's transfer from pausing for the default minute.
	cfg.KeepAliveTimeout = time.Second
	if uploadRateLimit > 0 {
		// The library's default burst is 16 MiB: a throttled seeder would
		// send its first 16 MiB at full speed.
		burst := int(max(64<<10, uploadRateLimit/20))
		cfg.UploadRateLimiter = rate.NewLimiter(rate.Limit(uploadRateLimit), burst)
	}
	cfg.Slogger = slog.New(slog.DiscardHandler)
	return torrent.NewClient(cfg)
}

// Seed serves the torrent mi whose data lies in parent (parent/<name> is
// the file or the root folder). It verifies every piece first and fails if
// the data does not match. uploadRateLimit caps the upload (0: none).
func Seed(mi []byte, parent string, uploadRateLimit int64) (*Seeder, error) {
	m, err := metainfo.Load(bytes.NewReader(mi))
	if err != nil {
		return nil, fmt.Errorf("reading the .torrent: %w", err)
	}
	info, err := m.UnmarshalInfo()
	if err != nil {
		return nil, fmt.Errorf("reading the .torrent's info: %w", err)
	}
	announce := m.UpvertedAnnounceList().DistinctValues()
	cl, err := newClient(uploadRateLimit, len(announce) > 0)
	if err != nil {
		return nil, fmt.Errorf("starting the seeder: %w", err)
	}
	st := storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir:   parent,
		PieceCompletion: storage.NewMapPieceCompletion(),
		UsePartFiles:    g.Some(false),
		Logger:          slog.New(slog.DiscardHandler),
	})
	ih := m.HashInfoBytes()
	t, _ := cl.AddTorrentOpt(torrent.AddTorrentOpts{InfoHash: ih, InfoBytes: m.InfoBytes, Storage: st})
	if len(announce) > 0 {
		t.AddTrackers([][]string{announce})
	}
	s := &Seeder{
		MetaInfo: mi, InfoHash: ih.HexString(), Name: info.BestName(),
		Root: filepath.Join(parent, info.BestName()), Size: info.TotalLength(), PieceLength: info.PieceLength,
		Addr: fmt.Sprintf("127.0.0.1:%d", cl.LocalPort()), cl: cl, t: t, st: st,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.wakeWriters(uploadRateLimit > 0)
	mag := m.Magnet(&ih, &info)
	mag.Params = url.Values{"x.pe": {s.Addr}}
	s.Magnet = mag.String()
	// Unknown piece states are hashed as soon as the torrent is added.
	select {
	case <-t.Complete().On():
	case <-time.After(5 * time.Minute):
		s.Close()
		return nil, errors.New("the seeder's data did not verify within 5 minutes")
	}
	if t.BytesMissing() != 0 {
		s.Close()
		return nil, errors.New("the seeder's data does not match the torrent")
	}
	return s, nil
}

// Uploaded returns the piece data the seeder sent to peers so far.
func (s *Seeder) Uploaded() int64 {
	st := s.t.Stats()
	return st.BytesWrittenData.Int64()
}

// wakeWriters works around a lost wake-up in the library's rate-limited
// upload: a connection's writer that must wait for the limiter arms a timer
// to wake itself, and when the timer fires before the writer sleeps, the
// writer sleeps until the next keep-alive (a second here, a minute by the
// library's default), while the leecher waits for the chunks it asked for. Toggling data download on this
// complete torrent wakes every connection's writer and changes nothing
// else, so a throttled seeder does it every 50 ms.
func (s *Seeder) wakeWriters(throttled bool) {
	defer close(s.done)
	if !throttled {
		<-s.stop
		return
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.t.DisallowDataDownload()
			s.t.AllowDataDownload()
		}
	}
}

// Close stops seeding and closes the client. It is idempotent.
func (s *Seeder) Close() {
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		s.cl.Close()
		_ = s.st.Close()
	})
}

// Fetch downloads the whole torrent mi from peers ("host:port") into dir
// with a separate client, and returns the useful bytes it received.
func Fetch(ctx context.Context, mi []byte, peers []string, dir string) (int64, error) {
	m, err := metainfo.Load(bytes.NewReader(mi))
	if err != nil {
		return 0, fmt.Errorf("reading the .torrent: %w", err)
	}
	cl, err := newClient(0, false)
	if err != nil {
		return 0, fmt.Errorf("starting the leecher: %w", err)
	}
	st := storage.NewFileOpts(storage.NewFileClientOpts{
		ClientBaseDir:   dir,
		PieceCompletion: storage.NewMapPieceCompletion(),
		UsePartFiles:    g.Some(false),
		Logger:          slog.New(slog.DiscardHandler),
	})
	// The client first: a piece hashed after the storage closed finds no
	// completion state and panics the library.
	defer func() {
		cl.Close()
		_ = st.Close()
	}()
	t, _ := cl.AddTorrentOpt(torrent.AddTorrentOpts{InfoHash: m.HashInfoBytes(), InfoBytes: m.InfoBytes, Storage: st})
	for _, p := range peers {
		t.AddPeers([]torrent.PeerInfo{{Addr: torrent.StringAddr(p), Trusted: true}})
	}
	t.DownloadAll()
	useful := func() int64 { s := t.Stats(); return s.BytesReadUsefulData.Int64() }
	select {
	case <-t.Complete().On():
		return useful(), nil
	case <-ctx.Done():
		return useful(), fmt.Errorf("fetching %s: %w (%d of %d bytes)", t.Name(), ctx.Err(), t.BytesCompleted(), t.Length())
	}
}

// Random returns n bytes of a ChaCha8 stream keyed by seed: the same bytes
// for the same seed, incompressible like real media.
func Random(seed uint64, n int) []byte {
	b := make([]byte, n)
	_, _ = NewRandomReader(seed).Read(b)
	return b
}

// NewRandomReader returns the endless stream Random takes its bytes from.
func NewRandomReader(seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return rand.NewChaCha8(key)
}

package torrent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	atorrent "github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
	"github.com/anacrolix/torrent/storage"
	"golang.org/x/time/rate"
)

// fileIOEnv selects anacrolix/torrent's file I/O in its storage package's
// init(); only "classic" (pread/pwrite) frees deleted files' space at once.
const fileIOEnv = "TORRENT_STORAGE_DEFAULT_FILE_IO"

// maxAllocPeerRequestData is the per-connection budget for piece data read
// for peers and not yet sent. The library's 1 MiB default deadlocks the
// upload after about 2 MiB per connection in v1.59.1 (docs/torrent-library.md §2).
const maxAllocPeerRequestData = 16 << 20

// writerWakeBound is the keep-alive interval of every connection, and so the
// longest a connection's writer sleeps. In v1.59.1 the writer takes its
// wake-up channel only after it looked for work, without the lock those who
// wake it hold: a wake-up that falls in between (piece data read for a peer,
// new requests to send, a rate limiter's retry) is lost, and the connection
// stays silent until the keep-alive timer, a minute by default. Downloads
// from a loopback seeder stalled that way in 2 of 16 runs of the download
// tests beside two busy processes on two cores. A keep-alive is 4 bytes.
const writerWakeBound = 5 * time.Second

// Config configures the node's one Client. The zero value listens on a
// random port on all interfaces with DHT, trackers and PEX on.
type Config struct {
	ListenHost string // "" = all interfaces
	ListenPort int    // 0 = random free port
	// NoDHT, DisableTrackers and DisablePEX turn peer sources off; all are
	// on by default (false).
	NoDHT, DisableTrackers, DisablePEX bool
	// DownloadRateLimit and UploadRateLimit cap the client's total rates in
	// bytes per second; 0 means unlimited.
	DownloadRateLimit, UploadRateLimit int64
	// DialContext, when set, dials HTTP trackers, web seeds and metainfo
	// sources (pass the network guard's dialer, which refuses private
	// addresses); LookupTrackerIP, when set, resolves and vets UDP trackers.
	DialContext     func(ctx context.Context, network, addr string) (net.Conn, error)
	LookupTrackerIP func(*url.URL) ([]net.IP, error)
	// CheckPeer, when set, vets the address of every peer connection: the
	// peers a link names, those from trackers, PEX and the DHT, DHT nodes,
	// incoming connections, and tracker addresses. A non-nil error refuses
	// the address (pass the network guard's CheckAddr, which refuses private
	// addresses unless they are allowed). PeerRefused, when set, is called
	// for each refusal with where the address came from (PeerSources).
	CheckPeer   func(netip.Addr) error
	PeerRefused func(source string)
	// Logger receives the engine's records and the library's from Info up;
	// nil discards them.
	Logger *slog.Logger

	// maxAllocPerConn overrides maxAllocPeerRequestData in tests that show
	// the upload deadlock the override prevents.
	maxAllocPerConn int
}

// Client is the node's BitTorrent client: one listening port, one DHT node
// and one set of rate limits shared by every torrent of the node.
type Client struct {
	cl  *atorrent.Client
	log *slog.Logger
	// peers is Config.CheckPeer; noDHT and noTrackers tell whether a link
	// whose peers were all refused has anything left to find peers with.
	peers             peerRule
	noDHT, noTrackers bool
	// ctx is cancelled with ErrClosed by Close; every Download and seeding
	// torrent derives from it.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	closed bool
	busy   map[metainfo.Hash]string // info hash -> Dir of a running Download
	seeds  map[string]*seedJob      // Dir -> seeding torrent
	byHash map[metainfo.Hash]*seedJob
	jobs   sync.WaitGroup // Downloads and seeding goroutines

	closeOnce sync.Once
	closeErr  error
}

// New starts a client listening on cfg.ListenHost:cfg.ListenPort.
func New(cfg Config) (*Client, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ac := atorrent.NewDefaultClientConfig()
	host := cfg.ListenHost
	ac.ListenHost = func(string) string { return host }
	ac.ListenPort = cfg.ListenPort
	// An address literal binds one family; the library would also try to
	// listen with the other one on it and fail.
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() != nil {
			ac.DisableIPv6 = true
		} else {
			ac.DisableIPv4 = true
		}
	}
	ac.NoDHT = cfg.NoDHT
	ac.DisableTrackers = cfg.DisableTrackers
	ac.DisablePEX = cfg.DisablePEX
	// No UPnP/NAT-PMP: a server bot does not open ports on the router.
	ac.NoDefaultPortForwarding = true
	// uTP in pure Go runs at a fifth of TCP's speed and leaks (#392); the
	// WebRTC trackers leak memory (#703).
	ac.DisableUTP = true
	ac.DisableWebtorrent = true
	// Every torrent brings its own storage. Without a default the library
	// opens a piece database in the working directory at start (bolt, or
	// sqlite when built with cgo).
	ac.DefaultStorage = noDefaultStorage{}
	ac.Seed = true
	ac.KeepAliveTimeout = writerWakeBound
	ac.MaxAllocPeerRequestDataPerConn = maxAllocPeerRequestData
	if cfg.maxAllocPerConn > 0 {
		ac.MaxAllocPeerRequestDataPerConn = cfg.maxAllocPerConn
	}
	if cfg.DownloadRateLimit > 0 {
		// An eighth of a second of burst (the library would allow a whole
		// second at full speed); reads are cut to the burst, so not too small.
		burst := int(max(64<<10, cfg.DownloadRateLimit/8))
		ac.DownloadRateLimiter = rate.NewLimiter(rate.Limit(cfg.DownloadRateLimit), burst)
	}
	if cfg.UploadRateLimit > 0 {
		// Burst 0: the library uses the request budget (16 MiB). A limited
		// upload waits for a timer to wake the writer, a wake-up that can be
		// lost too: writerWakeBound caps that pause.
		ac.UploadRateLimiter = rate.NewLimiter(rate.Limit(cfg.UploadRateLimit), 0)
	}
	if cfg.DialContext != nil {
		ac.HTTPDialContext = cfg.DialContext
		ac.TrackerDialContext = cfg.DialContext
	}
	if cfg.LookupTrackerIP != nil {
		ac.LookupTrackerIp = cfg.LookupTrackerIP
	}
	rule := peerRule{check: cfg.CheckPeer, refused: cfg.PeerRefused}
	if rule.check != nil {
		ac.IPBlocklist = blocklist{rule}
		// The library's own sockets are added back below, wrapped.
		ac.DialForPeerConns = false
	}
	newRequestWindows().install(&ac.Callbacks)
	ac.Slogger = slog.New(quietHandler{next: logger.Handler(), minLevel: slog.LevelInfo}).
		With(slog.String("lib", "anacrolix/torrent"))
	cl, err := atorrent.NewClient(ac)
	if err != nil {
		return nil, fmt.Errorf("starting the torrent client on port %d: %w", cfg.ListenPort, err)
	}
	if rule.check != nil {
		// The listening sockets are the peer dialers (as with
		// DialForPeerConns); no torrent exists yet to dial without them.
		for _, l := range cl.Listeners() {
			if d, ok := l.(atorrent.Dialer); ok {
				cl.AddDialer(guardedDialer{Dialer: d, rule: rule})
			}
		}
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	return &Client{
		cl:         cl,
		log:        logger,
		peers:      rule,
		noDHT:      cfg.NoDHT,
		noTrackers: cfg.DisableTrackers,
		ctx:        ctx,
		cancel:     cancel,
		busy:       map[metainfo.Hash]string{},
		seeds:      map[string]*seedJob{},
		byHash:     map[metainfo.Hash]*seedJob{},
	}, nil
}

// Port returns the bound listen port.
func (c *Client) Port() int { return c.cl.LocalPort() }

// Seeding returns how many torrents are seeding now.
func (c *Client) Seeding() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seeds)
}

// Retain reports whether dir (a Request.Dir) belongs to a torrent that is
// seeding now. If so the client takes the folder over and removes it when
// seeding ends or the client closes; otherwise the caller removes it.
func (c *Client) Retain(dir string) bool {
	return c.seedingIn(dir, func(s *seedJob) { s.retained = true })
}

// seedingIn reports whether a torrent seeds from dir and, if so, calls fn
// on it under the client's lock.
func (c *Client) seedingIn(dir string, fn func(*seedJob)) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.seeds[abs]
	if ok && fn != nil {
		fn(s)
	}
	return ok
}

// Close stops every Download (they return ErrClosed), ends seeding
// (removing retained folders), closes all storages and the listener. It
// waits for running Downloads to return and is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.cancel(ErrClosed)
		c.jobs.Wait()
		c.closeErr = errors.Join(c.cl.Close()...)
		if c.closeErr != nil {
			c.closeErr = fmt.Errorf("closing the torrent client: %w", c.closeErr)
		}
	})
	return c.closeErr
}

// EnsureClassicFileIO makes the process use pread/pwrite file I/O for
// torrent data: with the library's default mmap I/O, deleted files stay
// mapped (their space is not freed) until the process exits. The library
// reads the choice once, in an init function, so it must be in the
// environment before the process starts: if TORRENT_STORAGE_DEFAULT_FILE_IO
// is unset, EnsureClassicFileIO sets it to "classic" and re-executes the
// program (syscall.Exec), returning only on error. If it is set to anything
// but "classic" it returns an error. main calls it first thing.
func EnsureClassicFileIO() error {
	v, ok := os.LookupEnv(fileIOEnv)
	if ok {
		if v != "classic" {
			return fmt.Errorf("%s=%q: only \"classic\" is supported (mmap keeps deleted files mapped)", fileIOEnv, v)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("re-executing with %s=classic: %w", fileIOEnv, err)
	}
	if err := os.Setenv(fileIOEnv, "classic"); err != nil {
		return fmt.Errorf("re-executing with %s=classic: %w", fileIOEnv, err)
	}
	err = syscall.Exec(exe, os.Args, os.Environ())
	return fmt.Errorf("re-executing %s with %s=classic: %w", exe, fileIOEnv, err)
}

// noDefaultStorage is the client's default storage, never meant to be used:
// Download always passes the task's own.
type noDefaultStorage struct{}

func (noDefaultStorage) OpenTorrent(context.Context, *metainfo.Info, metainfo.Hash) (storage.TorrentImpl, error) {
	return storage.TorrentImpl{}, errors.New("a torrent was added without its own storage")
}

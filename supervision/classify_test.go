package supervision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/httpdl"
	"github.com/mirrorleech/mirrorleech/internal/netguard"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		class Class
		after time.Duration
	}{
		{"cancelled", fmt.Errorf("downloading: %w", context.Canceled), Cancelled, 0},
		{"user error", NewUserError("too big"), Permanent, 0},
		{"blocked address", &netguard.BlockedError{Host: "localhost", Addr: netip.MustParseAddr("127.0.0.1"), Reason: "loopback"}, Permanent, 0},
		{"disk full", fmt.Errorf("writing: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), Permanent, 0},
		{"http 404", &httpdl.StatusError{Code: 404}, Permanent, 0},
		{"http 403", &httpdl.StatusError{Code: 403}, Permanent, 0},
		{"http 503", &httpdl.StatusError{Code: 503}, Transient, 0},
		{"http 408", &httpdl.StatusError{Code: 408}, Transient, 0},
		{"http 429", &httpdl.StatusError{Code: 429, RetryAfter: 3 * time.Second}, RateLimited, 3 * time.Second},
		{"telegram 429", &tgapi.APIError{Code: 429, RetryAfter: 5 * time.Second}, RateLimited, 5 * time.Second},
		{"telegram 400", &tgapi.APIError{Code: 400, Description: "Bad Request: chat not found"}, Permanent, 0},
		{"telegram 500", &tgapi.TransportError{Status: 500}, Transient, 0},
		{"telegram too big", fmt.Errorf("x: %w", tgapi.ErrFileTooBig), Permanent, 0},
		{"torrent stalled", fmt.Errorf("downloading the torrent: %w", fmt.Errorf("%w: no peers sent any data for 3s", torrent.ErrStalled)), Permanent, 0},
		{"bad torrent", fmt.Errorf("x: %w", torrent.ErrBadTorrent), Permanent, 0},
		{"torrent client closed", fmt.Errorf("x: %w", torrent.ErrClosed), Transient, 0},
		{"remote changed twice", fmt.Errorf("x: %w", httpdl.ErrRemoteChanged), Permanent, 0},
		{"over the size limit", fmt.Errorf("x: %w", &httpdl.TooLargeError{Size: -1, Limit: 100}), Permanent, 0},
		{"no room", fmt.Errorf("x: %w", &httpdl.NoRoomError{Size: 10, Free: 5}), Permanent, 0},
		{"name too long", fmt.Errorf("x: %w", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.ENAMETOOLONG}), Permanent, 0},
		{"dropped", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), Transient, 0},
		{"refused", fmt.Errorf("x: %w", syscall.ECONNREFUSED), Transient, 0},
		{"unknown", errors.New("something odd"), Transient, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			class, after := Classify(tc.err)
			require.Equal(t, tc.class, class)
			require.Equal(t, tc.after, after)
		})
	}
}

func TestExplainIsUserSafe(t *testing.T) {
	secret := errors.New(`Get "https://user:pw@host/file?token=abc": unexpected thing`)
	require.Equal(t, "an unexpected error occurred", Explain(secret))
	require.Contains(t, Explain(&httpdl.StatusError{Code: 404}), "does not exist")
	require.Contains(t, Explain(fmt.Errorf("w: %w", syscall.ENOSPC)), "disk is full")
	require.Equal(t, "too big", Explain(NewUserError("too big")))
	blocked := &netguard.BlockedError{Host: "localhost", Addr: netip.MustParseAddr("127.0.0.1"), Reason: "loopback"}
	require.Equal(t, blocked.Error(), Explain(fmt.Errorf("downloading: %w", blocked)))
}

func TestExplainTorrent(t *testing.T) {
	stalled := fmt.Errorf("downloading the torrent: %w", fmt.Errorf("%w: no peers sent any data for 10m0s", torrent.ErrStalled))
	require.Equal(t, "the torrent stalled: no peers sent any data for 10m0s", Explain(stalled))
	bad := fmt.Errorf("downloading the torrent: %w", fmt.Errorf("%w: reading the magnet link: tr=http://t.example/announce?passkey=SECRET", torrent.ErrBadTorrent))
	require.Equal(t, torrent.ErrBadTorrent.Error(), Explain(bad), "the parser's detail may hold a passkey")
}

func TestExplainLimits(t *testing.T) {
	require.Equal(t, "the file is 9.3 GiB, larger than the 100.0 MiB this bot accepts",
		Explain(fmt.Errorf("downloading: %w", &httpdl.TooLargeError{Size: 10_000_000_000, Limit: 100 << 20})))
	require.Equal(t, "the file is larger than the 100.0 MiB this bot accepts",
		Explain(fmt.Errorf("downloading: %w", &httpdl.TooLargeError{Size: -1, Limit: 100 << 20})))
	require.Equal(t, "the file is 2.0 GiB, but the bot's disk has 1.0 GiB free and keeps 512.0 MiB of it free",
		Explain(&httpdl.NoRoomError{Size: 2 << 30, Free: 1 << 30, Floor: 512 << 20}))
	long := fmt.Errorf("delivering: %w", &os.LinkError{Op: "rename", Old: "/secret/a", New: "/secret/b", Err: syscall.ENAMETOOLONG})
	require.Equal(t, "the file name is too long for the bot's file system", Explain(long))
	require.Contains(t, Explain(fmt.Errorf("x: %w", httpdl.ErrRemoteChanged)), "the file changed on the server")
}

package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// torrentFiles is a small multi-file torrent with folders and an empty
// file (Telegram refuses empty documents; a leech skips it).
func torrentFiles() map[string][]byte {
	return map[string][]byte{
		"disc1/track01.flac": swarm.Random(1, 1_500_000),
		"disc1/track02.flac": swarm.Random(2, 700_000),
		"cover.jpg":          swarm.Random(3, 90_000),
		"empty.txt":          {},
	}
}

func TestTorrentLinkThroughTrackerIsLeechedFileByFile(t *testing.T) {
	tr := swarm.NewTracker(t)
	files := torrentFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{Name: "Album", Announce: tr.URL})
	o := origin.New(t, origin.File{Path: "/get/album.torrent", Data: seeder.MetaInfo})
	tg := tgfake.New(t, tgfake.Options{})
	startBot(t, tg, "LEECH_SPLIT_SIZE=1MiB", "TORRENT_TRACKERS=true")

	tg.PushText(userID, userID, "/leech "+o.URL("/get/album.torrent"))
	done := waitMessage(t, tg, userID, "✅", 90*time.Second)
	require.Contains(t, done.Text, "Album")

	// Every non-empty file in path order, the 1.5 MB one in two parts.
	var names []string
	byFile := map[string][]tgfake.SentDocument{}
	for _, d := range tg.Documents(userID) {
		names = append(names, d.FileName)
		base := strings.TrimSuffix(strings.TrimSuffix(d.FileName, ".001"), ".002")
		byFile[base] = append(byFile[base], d)
	}
	require.Equal(t, []string{"cover.jpg", "track01.flac.001", "track01.flac.002", "track02.flac"}, names)
	for path, data := range files {
		if len(data) == 0 {
			continue
		}
		require.Equal(t, sha(data), joinedSHA256(t, byFile[filepath.Base(path)]), path)
	}
	require.Positive(t, tr.Announces(), "the bot found its peer through the tracker")
}

func TestTorrentMagnetMirrorKeepsFolders(t *testing.T) {
	files := torrentFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{Name: "Album"})
	tg := tgfake.New(t, tgfake.Options{})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror "+seeder.Magnet)
	waitMessage(t, tg, userID, "✅", 90*time.Second)
	got := listTree(t, filepath.Join(bot.Mirror, "Album"))
	want := map[string]string{}
	for p, data := range files {
		want[p] = sha(data)
	}
	require.Equal(t, want, got, "the same tree, byte for byte")
	waitFor(t, 5*time.Second, "the task folder to be removed", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
}

var selectData = regexp.MustCompile(`"callback_data":"(f:[^"]+)"`)

func TestTorrentSelectDeliversOnlyTheChosenFiles(t *testing.T) {
	tr := swarm.NewTracker(t)
	files := torrentFiles()
	seeder := swarm.NewSeeder(t, files, swarm.Options{Name: "Album", Announce: tr.URL})
	tg := tgfake.New(t, tgfake.Options{})
	bot := startBot(t, tg, "TORRENT_TRACKERS=true")

	// A .torrent posted in the chat, with /mirror -s as the reply.
	doc := tg.PushDocument(userID, userID, "album.torrent", seeder.MetaInfo, "")
	tg.PushText(userID, userID, "/mirror -s", tgfake.ReplyTo(doc.MessageID))
	list := waitMessage(t, tg, userID, "Choose the files of Album", 60*time.Second)
	require.Contains(t, list.Text, "4 of 4 files chosen")
	// Files are listed in the torrent's order; find the buttons by path.
	buttons := map[string]string{}
	var keyboard struct {
		InlineKeyboard [][]struct {
			Text string `json:"text"`
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	require.NoError(t, json.Unmarshal([]byte(list.ReplyMarkup), &keyboard))
	for _, row := range keyboard.InlineKeyboard {
		for _, b := range row {
			buttons[b.Text] = b.Data
		}
	}
	toggle := func(path string) {
		for text, data := range buttons {
			if strings.HasSuffix(text, path) {
				tg.PushCallback(userID, userID, list.MessageID, data)
				return
			}
		}
		t.Fatalf("no button for %s in %v", path, buttons)
	}
	toggle("track02.flac")
	waitMessage(t, tg, userID, "3 of 4 files chosen", 15*time.Second)
	toggle("empty.txt")
	waitMessage(t, tg, userID, "2 of 4 files chosen", 15*time.Second)
	var start string
	for text, data := range buttons {
		if strings.HasPrefix(text, "▶ Start") {
			start = data
		}
	}
	require.True(t, selectData.MatchString(list.ReplyMarkup))
	tg.PushCallback(userID, userID, list.MessageID, start)

	// (the file list itself holds ✅ marks: wait for the final message)
	waitMessage(t, tg, userID, "Delivered to", 90*time.Second)
	got := listTree(t, filepath.Join(bot.Mirror, "Album"))
	require.Equal(t, map[string]string{
		"disc1/track01.flac": sha(files["disc1/track01.flac"]),
		"cover.jpg":          sha(files["cover.jpg"]),
	}, got, "only the chosen files exist, complete")
	require.Less(t, seeder.Uploaded(), int64(1_500_000+90_000+4*seeder.PieceLength),
		"the unchosen file was not downloaded")
}

func TestTorrentWithoutPeersFailsAfterTheStallTimeout(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	startBot(t, tg, "TORRENT_STALL_TIMEOUT=2s")

	tg.PushText(userID, userID, "/leech magnet:?xt=urn:btih:"+strings.Repeat("ab", 20)+"&dn=nobody-seeds-this")
	failed := waitMessage(t, tg, userID, "❌", 60*time.Second)
	require.Contains(t, failed.Text, "no peer sent the torrent's metadata for 2s")
	require.NotContains(t, failed.Text, "attempts", "a stall is not retried")
}

func TestTorrentCancelDuringMetadata(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror magnet:?xt=urn:btih:"+strings.Repeat("cd", 20)+"&dn=waiting")
	board := waitMessage(t, tg, userID, "fetching metadata", 30*time.Second)
	id := cancelRe.FindStringSubmatch(board.Text)
	require.NotNil(t, id, board.Text)
	asked := time.Now()
	tg.PushText(userID, userID, "/cancel "+id[1])
	waitMessage(t, tg, userID, "🚫", 15*time.Second)
	t.Logf("cancelled %s after the command", time.Since(asked).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "the task folder to be removed", func() bool { return len(dirEntries(t, bot.Download)) == 0 })
}

func TestTorrentResumesFromVerifiedPieces(t *testing.T) {
	const pieceLen = 64 << 10
	for _, tc := range []struct {
		name string
		stop func(*harness.Bot)
		// bound is the most the seeder may send twice. A clean stop lets
		// the engine finish the pieces in flight: under a piece per file.
		// SIGKILL loses the pieces in flight, which the engine's request
		// window bounds to ~400 ms of transfer (at least 512 KiB).
		bound int64
	}{
		{"sigterm", (*harness.Bot).Stop, pieceLen * 2},
		{"sigkill", (*harness.Bot).Kill, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"a.bin": swarm.Random(11, 5<<20), "b.bin": swarm.Random(12, 3<<20)}
			var size int64
			for _, b := range files {
				size += int64(len(b))
			}
			// 1 MiB/s: the stop lands mid-download.
			seeder := swarm.NewSeeder(t, files, swarm.Options{Name: "Set", PieceLength: pieceLen, UploadRateLimit: 1 << 20})
			tg := tgfake.New(t, tgfake.Options{})
			bot := startBot(t, tg)

			tg.PushText(userID, userID, "/mirror "+seeder.Magnet)
			waitFor(t, 60*time.Second, "a third of the torrent to arrive", func() bool { return seeder.Uploaded() > size/3 })
			tc.stop(bot)
			before := seeder.Uploaded()
			bot.Restart()

			waitMessage(t, tg, userID, "✅", 120*time.Second)
			got := listTree(t, filepath.Join(bot.Mirror, "Set"))
			require.Equal(t, map[string]string{"a.bin": sha(files["a.bin"]), "b.bin": sha(files["b.bin"])}, got)
			again := seeder.Uploaded() - size
			t.Logf("sent before the stop %d B; sent twice %d B (piece %d B, %d files, bound %d B)",
				before, again, pieceLen, len(files), tc.bound)
			require.Less(t, again, tc.bound)
			require.Less(t, before, size, "the stop came before the end")
		})
	}
}

func TestTorrentSeedsAfterDeliveryWithoutDelayingIt(t *testing.T) {
	data := swarm.Random(21, 2<<20)
	seeder := swarm.NewSeeder(t, map[string][]byte{"movie.mkv": data}, swarm.Options{})
	port := freePort(t)
	tg := tgfake.New(t, tgfake.Options{})
	bot := startBot(t, tg, "TORRENT_PORT="+strconv.Itoa(port))

	tg.PushText(userID, userID, "/mirror -d 5:10 "+seeder.Magnet)
	waitMessage(t, tg, userID, "✅", 90*time.Second)
	require.Equal(t, sha(data), fileSHA256(t, filepath.Join(bot.Mirror, "movie.mkv")))
	seeder.Close() // the bot is now the only source

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	useful, err := swarm.Fetch(ctx, seeder.MetaInfo, []string{fmt.Sprintf("127.0.0.1:%d", port)}, dir)
	require.NoError(t, err, "a peer downloads the torrent from the seeding bot")
	require.GreaterOrEqual(t, useful, int64(len(data)))
	require.Equal(t, sha(data), fileSHA256(t, filepath.Join(dir, "movie.mkv")))
	require.NotEmpty(t, dirEntries(t, bot.Download), "the seeding data stays until seeding ends")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestTorrentTrackerOnAPrivateAddressIsNotContacted(t *testing.T) {
	tr := swarm.NewTracker(t)
	seeder := swarm.NewSeeder(t, map[string][]byte{"x.bin": swarm.Random(31, 300_000)}, swarm.Options{Announce: tr.URL})
	waitFor(t, 10*time.Second, "the seeder to announce", func() bool { return tr.Announces() > 0 })
	seen := tr.Announces()
	tg := tgfake.New(t, tgfake.Options{})
	startBot(t, tg, "ALLOW_PRIVATE_URLS=false", "TORRENT_TRACKERS=true", "TORRENT_STALL_TIMEOUT=3s")

	// The .torrent comes from the chat (a link to 127.0.0.1 would be refused
	// up front); its tracker is on loopback, which the guard refuses too.
	doc := tg.PushDocument(userID, userID, "x.torrent", seeder.MetaInfo, "")
	tg.PushText(userID, userID, "/leech", tgfake.ReplyTo(doc.MessageID))
	failed := waitMessage(t, tg, userID, "❌", 60*time.Second)
	require.Contains(t, failed.Text, "no peers sent any data for 3s")
	require.Equal(t, seen, tr.Announces(), "the bot never reached the loopback tracker")
	require.Empty(t, tg.Documents(userID))
}

package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

func TestBasicCommands(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	startBot(t, tg)

	tg.PushText(userID, userID, "/start")
	waitMessage(t, tg, userID, "mirrorleech is ready", 15*time.Second)
	tg.PushText(userID, userID, "/help")
	help := waitMessage(t, tg, userID, "/cancelall", 15*time.Second)
	for _, s := range []string{"/mirror", "/status", "/cancel", "/cancelall", "/stats", "/ping", "-n"} {
		require.Contains(t, help.Text, s)
	}
	tg.PushText(userID, userID, "/ping")
	waitMessage(t, tg, userID, "Pong:", 15*time.Second)
	tg.PushText(userID, userID, "/stats")
	stats := waitMessage(t, tg, userID, "Uptime", 15*time.Second)
	for _, s := range []string{"CPU", "RAM", "Disk", "downloading"} {
		require.Contains(t, stats.Text, s)
	}
	tg.PushText(userID, userID, "/status")
	waitMessage(t, tg, userID, "No active tasks", 15*time.Second)
	tg.PushText(userID, userID, "/leech -x http://example.com/a")
	waitMessage(t, tg, userID, "unknown flag -x", 15*time.Second)
	tg.PushText(userID, userID, "/leech")
	waitMessage(t, tg, userID, "Send a link", 15*time.Second)
	tg.PushText(userID, userID, "/leech -s http://example.com/a")
	waitMessage(t, tg, userID, "-s (select files) applies to torrents", 15*time.Second)
	tg.PushText(userID, userID, "/leech -up /tmp http://example.com/a")
	waitMessage(t, tg, userID, "unknown flag -up", 15*time.Second)
}

func TestAuthorizePersists(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	const group int64 = -100500
	const member int64 = 4242
	bot := startBot(t, tg)

	tg.PushText(group, member, "/ping")
	waitMessage(t, tg, group, "not authorized", 15*time.Second)
	tg.PushText(group, userID, fmt.Sprintf("/authorize %d", group))
	waitMessage(t, tg, group, "Only the owner", 15*time.Second)
	tg.PushText(group, ownerID, "/authorize")
	waitMessage(t, tg, group, "is authorized", 15*time.Second)
	tg.PushText(group, member, "/ping")
	waitMessage(t, tg, group, "Pong", 15*time.Second)

	// The list survives a restart.
	bot.Stop()
	tg2 := tgfake.New(t, tgfake.Options{})
	startBotWithState(t, tg2, bot.State)
	tg2.PushText(group, member, "/ping")
	waitMessage(t, tg2, group, "Pong", 15*time.Second)
	tg2.PushText(group, ownerID, "/unauthorize")
	waitMessage(t, tg2, group, "no longer authorized", 15*time.Second)
	tg2.PushText(group, member, "/ping")
	waitFor(t, 15*time.Second, "a second refusal", func() bool {
		n := 0
		for _, m := range tg2.Messages(group) {
			if strings.Contains(m.Text, "not authorized") {
				n++
			}
		}
		return n == 1
	})
}

// startBotWithState starts a bot that reuses another bot's state folder.
func startBotWithState(t *testing.T, tg *tgfake.Server, state string) *harness.Bot {
	t.Helper()
	return startBot(t, tg, "STATE_DIR="+state)
}

func TestBadConfigurationExitsWithStatus2(t *testing.T) {
	cmd := exec.Command(binary)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=/usr/bin:/bin", "OWNER_ID=abc", "STATUS_INTERVAL=fast", "LEECH_SPLIT_SIZE=huge",
		"DOWNLOAD_DIR=" + filepath.Join(cmd.Dir, "d"), "MIRROR_DEST=rclone:gdrive:Films"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 2, exit.ExitCode())
	for _, v := range []string{"BOT_TOKEN", "OWNER_ID", "STATUS_INTERVAL", "LEECH_SPLIT_SIZE"} {
		require.Contains(t, string(out), v, "every problem is listed")
	}
	// A destination no upload stage serves is refused here, not on every /mirror.
	require.Contains(t, string(out), "MIRROR_DEST: \"rclone:gdrive:Films\": rclone destinations are not supported")
}

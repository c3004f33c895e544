package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

const (
	ownerID = harness.OwnerID
	userID  = harness.UserID
)

// binary is the bot built once for every test.
var binary string

func TestMain(m *testing.M) {
	bin, cleanup, err := harness.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func startBot(t *testing.T, tg *tgfake.Server, env ...string) *harness.Bot {
	t.Helper()
	return harness.Start(t, binary, tg, env...)
}

var (
	waitFor      = harness.WaitFor
	waitMessage  = harness.WaitMessage
	fileSHA256   = harness.FileSHA256
	joinedSHA256 = harness.JoinedSHA256
	dirEntries   = harness.DirEntries
)

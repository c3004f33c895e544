package e2e

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// `mirrorleech healthcheck` is the container probe: 0 while the node's
// /healthz answers, 1 once it is gone.
func TestHealthcheckCommand(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	bot := startBot(t, tg)
	probe := func() int {
		cmd := exec.Command(binary, "healthcheck")
		cmd.Env = []string{"HTTP_ADDR=" + bot.HTTP}
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	}
	require.Equal(t, 0, probe(), "a running node is healthy")
	bot.Stop()
	require.Equal(t, 1, probe(), "a stopped node is not")
}

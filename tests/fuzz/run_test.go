package fuzz

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeGo writes a stand-in for the go command: a fuzzing call prints
// fuzzOut and exits fuzzRC, a replay (go test -run) exits replayRC. Each
// call is appended to calls.
func fakeGo(t *testing.T, fuzzOut string, fuzzRC, replayRC int) (goBin, calls string) {
	t.Helper()
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls")
	goBin = filepath.Join(dir, "go")
	script := `#!/bin/sh
echo "$*" >> ` + calls + `
case "$*" in
*-fuzz*) printf '%s\n' "$FUZZ_OUT"; exit ` + strconv.Itoa(fuzzRC) + ` ;;
*) exit ` + strconv.Itoa(replayRC) + ` ;;
esac
`
	require.NoError(t, os.WriteFile(goBin, []byte(script), 0o755))
	t.Setenv("FUZZ_OUT", fuzzOut)
	return goBin, calls
}

func runScript(t *testing.T, goBin string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "run.sh", "./pkg/", "10s", "FuzzA", "FuzzB")
	cmd.Env = append(os.Environ(), "GO="+goBin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The verdict depends only on what the fuzzers found: a clean run passes, a
// written reproducer fails, and a bare coordinator error is judged by the
// corpus replay.
func TestVerdict(t *testing.T) {
	cases := []struct {
		name               string
		out                string
		fuzzRC, replayRC   int
		wantFail, replayed bool
	}{
		{name: "clean", out: "PASS", fuzzRC: 0},
		{name: "reproducer", out: "--- FAIL: FuzzA\n    Failing input written to testdata/fuzz/FuzzA/0123", fuzzRC: 1,
			wantFail: true},
		{name: "deadline race, corpus passes", out: "fuzz: elapsed: 10s\ncontext deadline exceeded\nFAIL", fuzzRC: 1,
			replayed: true},
		{name: "deadline race, corpus fails", out: "context deadline exceeded\nFAIL", fuzzRC: 1, replayRC: 1,
			wantFail: true, replayed: true},
		{name: "build error", out: "./x.go:1: syntax error\nFAIL [build failed]", fuzzRC: 2, replayRC: 2,
			wantFail: true, replayed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			goBin, calls := fakeGo(t, tc.out, tc.fuzzRC, tc.replayRC)
			out, err := runScript(t, goBin)
			if tc.wantFail {
				require.Error(t, err, out)
			} else {
				require.NoError(t, err, out)
			}
			log, readErr := os.ReadFile(calls)
			require.NoError(t, readErr)
			require.Equal(t, 2, strings.Count(string(log), "-fuzz ^Fuzz"), "every fuzzer runs:\n%s", log)
			replays := strings.Count(string(log), "test -count=1 -run ^Fuzz")
			if tc.replayed {
				require.Equal(t, 2, replays, "each fuzzer's corpus is replayed:\n%s", log)
			} else {
				require.Zero(t, replays, "no replay after a verdict:\n%s", log)
			}
		})
	}
}

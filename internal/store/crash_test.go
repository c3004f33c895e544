package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/messages"
)

// The crash child: when MIRRORLEECH_STORE_CRASH_DIR is set, this test binary
// writes task records forever (creating, updating, deleting) and prints the
// number of each write it completed, until it is killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("MIRRORLEECH_STORE_CRASH_DIR"); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir string) {
	s, err := OpenBolt(dir)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	start, _ := strconv.Atoi(os.Getenv("MIRRORLEECH_STORE_CRASH_START"))
	for i := start; ; i++ {
		id := fmt.Sprintf("t%06d", i)
		rec := Task{Spec: messages.TaskSpec{ID: id, UserID: int64(i % 7), Created: time.Now()}, Stage: messages.StageDownloading}
		if err := s.PutTask(ctx, rec); err != nil {
			fmt.Println("put:", err)
			os.Exit(1)
		}
		if _, err := s.UpdateTask(ctx, id, func(t *Task) error {
			t.Parts = map[int]int{0: i, 1: i + 1}
			t.Done = int64(i)
			return nil
		}); err != nil {
			fmt.Println("update:", err)
			os.Exit(1)
		}
		// Deletes reach back three records, so the write the parent checks
		// (the last acknowledged one) is never deleted by an unacknowledged
		// later write.
		if i%5 == 0 && i >= 3 {
			_ = s.DeleteTasks(ctx, fmt.Sprintf("t%06d", i-3))
		}
		fmt.Println(i) // acknowledged: durable from here on
	}
}

// Reopening after a kill -9 at an arbitrary write leaves a readable store
// that holds every acknowledged write.
func TestStoreSurvivesKillAtAnyWrite(t *testing.T) {
	dir := t.TempDir()
	exe, err := os.Executable()
	require.NoError(t, err)
	next := 0
	for round := 0; round < 8; round++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "MIRRORLEECH_STORE_CRASH_DIR="+dir,
			"MIRRORLEECH_STORE_CRASH_START="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		// Kill at a random moment: somewhere inside some write.
		time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
		require.NoError(t, cmd.Process.Kill())
		buf := make([]byte, 1<<20)
		n, _ := readAll(out, buf)
		_ = cmd.Wait()
		acked := lastNumber(string(buf[:n]))

		s, err := OpenBolt(dir)
		require.NoError(t, err, "round %d: the store must open after a crash", round)
		tasks, err := s.Tasks(context.Background(), Filter{})
		require.NoError(t, err, "round %d: every record must decode", round)
		if acked >= 0 {
			got, err := s.GetTask(context.Background(), fmt.Sprintf("t%06d", acked))
			require.NoError(t, err, "round %d: acknowledged write %d must survive", round, acked)
			require.Equal(t, int64(acked), got.Done)
			require.Equal(t, acked+1, got.Parts[1])
			next = acked + 1
		}
		require.NoError(t, s.Close())
		t.Logf("round %d: %d writes acknowledged in total, %d records", round, next, len(tasks))
	}
	require.Positive(t, next, "the child made progress")
}

func readAll(r interface{ Read([]byte) (int, error) }, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func lastNumber(out string) int {
	last := -1
	num := ""
	for _, c := range out {
		if c == '\n' {
			if v, err := strconv.Atoi(num); err == nil {
				last = v
			}
			num = ""
			continue
		}
		num += string(c)
	}
	return last
}

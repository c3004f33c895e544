package gateway

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/command"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/messages"
)

func TestParseCancel(t *testing.T) {
	user := &tgapi.Message{ID: 40, From: tgapi.User{ID: 7}}
	bot := &tgapi.Message{ID: 41, From: tgapi.User{ID: 99, IsBot: true}}
	cases := []struct {
		text    string
		replyTo *tgapi.Message
		want    cancelTarget
	}{
		{"/cancel AbCd1234", nil, cancelTarget{form: cancelByID, id: "abcd1234"}},
		{"/c abcd1234", bot, cancelTarget{form: cancelByID, id: "abcd1234"}}, // an id wins over a reply
		{"/cancel", nil, cancelTarget{form: cancelUsage}},
		{"/cancel", user, cancelTarget{form: cancelByCommand, msgID: 40}},
		{"/cancel", bot, cancelTarget{form: cancelByBoard, msgID: 41}},
	}
	for _, c := range cases {
		cmd, err := command.Parse(c.text)
		require.NoError(t, err)
		got := parseCancel(cmd, &tgapi.Message{ID: 50, From: tgapi.User{ID: 7}, ReplyTo: c.replyTo})
		require.Equal(t, c.want, got, c.text)
	}
}

func TestJudgeCancel(t *testing.T) {
	running := store.Task{Spec: messages.TaskSpec{ID: "t1", UserID: 7}, Stage: messages.StageDownloading}
	done := store.Task{Spec: messages.TaskSpec{ID: "t1", UserID: 7}, Stage: messages.StageDone}
	cases := []struct {
		name  string
		rec   store.Task
		by    int64
		admin bool
		route int64
		text  string
	}{
		{"the owner of the task", running, 7, false, 7, ""},
		{"an admin, someone else's task", running, 1, true, 7, ""},
		{"another user", running, 8, false, 0, "not yours"},
		{"a finished task", done, 7, false, 0, "already ended (done)"},
		{"a finished task, admin", done, 1, true, 0, "already ended"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			route, text := judgeCancel("t1", c.rec, c.by, c.admin)
			require.Equal(t, c.route, route)
			if c.text == "" {
				require.Empty(t, text)
			} else {
				require.Contains(t, text, c.text)
			}
		})
	}
}

func TestConfirmData(t *testing.T) {
	d := confirmData{deadline: time.Unix(1700000000, 0), admin: 1001, choice: choiceAll}
	data := d.encode()
	require.LessOrEqual(t, len(data), 64, "Telegram's callback data limit")
	got, ok := parseConfirm(data)
	require.True(t, ok)
	require.Equal(t, d.admin, got.admin)
	require.Equal(t, d.choice, got.choice)
	require.True(t, d.deadline.Equal(got.deadline))
	for _, bad := range []string{"ca:", "ca:1:2", "ca:x:2:a", "ca:1:y:a", "ca:1:2:z", "ca:1:2:a:b", "c:1:2:a"} {
		_, ok := parseConfirm(bad)
		require.False(t, ok, bad)
	}
}

func TestCancelAllText(t *testing.T) {
	run := &cancelAllRun{users: 3, count: 5, waiting: map[int64]bool{}}
	require.Equal(t, "🚫 Cancelled 5 task(s) of 3 user(s).", cancelAllText(run))
	run.waiting[9] = true
	require.Equal(t, "🚫 Cancelled 5 task(s) of 2 user(s). 1 session(s) did not answer in time; their tasks may still run.",
		cancelAllText(run))
	require.Equal(t, "🚫 Cancelled 2 of your task(s).", cancelAllText(&cancelAllRun{mine: true, users: 1, count: 2}))
}

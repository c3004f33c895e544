package cluster

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

const (
	ownerID = harness.OwnerID
	mib     = 1 << 20
	// nodes is the size of every test cluster.
	nodes = 3
)

// binary is the bot built once for every test.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Every test skips: do not spend a minute building the bot.
		os.Exit(m.Run())
	}
	if bin := os.Getenv("CLUSTER_BINARY"); bin != "" {
		// A binary built beforehand, to run the tests against a given
		// build without compiling it again.
		binary = bin
		os.Exit(m.Run())
	}
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

var waitFor = harness.WaitFor

// startCluster starts the fake, Redis and three nodes that authorize users
// (besides the owner). Create origins before calling it, so that they close
// after the nodes stop.
func startCluster(t *testing.T, users []int64, env ...string) (*tgfake.Server, *redistest.Server, *harness.Cluster) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three nodes and Redis; skipped under -short")
	}
	tg := tgfake.New(t, tgfake.Options{})
	rs := redistest.Start(t)
	ids := []string{fmt.Sprint(harness.UserID)}
	for _, u := range append(users, pingChats...) {
		ids = append(ids, fmt.Sprint(u))
	}
	env = append([]string{"AUTHORIZED_CHATS=" + strings.Join(ids, " ")}, env...)
	start := time.Now()
	c := harness.StartCluster(t, binary, tg, rs.URL(), nodes, env...)
	t.Logf("three nodes up in %.1f s", time.Since(start).Seconds())
	return tg, rs, c
}

// userIDs returns n user ids from first on.
func userIDs(first int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)
	}
	return out
}

// Chat views shared with the container suite (tests/harness/chat.go).
var (
	messagesWith         = harness.MessagesWith
	done                 = harness.Finished
	requireDeliveredOnce = harness.RequireDeliveredOnce
	logChat              = harness.LogChat
)

// recycled returns the chat's "♻️" messages (a task moved after its node
// was lost).
func recycled(tg *tgfake.Server, chat int64) []tgfake.SentMessage {
	return messagesWith(tg, chat, "♻️")
}

// pingChats are the chats pings rotate over: the outbox paces each chat to
// about one message a second, and a pong is a send and an edit, so one chat
// cannot take a ping every 300 ms without a growing backlog.
var pingChats = userIDs(4001, 8)

// pingRef is one ping: its chat and message id.
type pingRef struct {
	chat int64
	id   int
}

// pinger sends /ping at a steady pace, rotating over pingChats, and
// remembers each message and when it was sent.
type pinger struct {
	tg   *tgfake.Server
	stop chan struct{}
	done chan struct{}

	mu    sync.Mutex
	sent  []pingRef
	times map[pingRef]time.Time
}

func startPinger(tg *tgfake.Server, every time.Duration) *pinger {
	p := &pinger{tg: tg, stop: make(chan struct{}), done: make(chan struct{}), times: map[pingRef]time.Time{}}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			chat := pingChats[i%len(pingChats)]
			now := time.Now()
			m := tg.PushText(chat, chat, "/ping")
			ref := pingRef{chat, m.MessageID}
			p.mu.Lock()
			p.sent = append(p.sent, ref)
			p.times[ref] = now
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// Stop ends the pings; it is safe to call more than once.
func (p *pinger) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// pingReport is what the bot answered to the pings.
type pingReport struct {
	sent     int
	answered int
	// replies counts the bot's replies per ping; badReplies are the texts
	// of replies that are not pongs.
	replies    map[pingRef]int
	badReplies []string
	// maxDelay is the longest time from a ping to its first reply.
	maxDelay time.Duration
	// firstAfter is the first reply to a ping sent after report's argument.
	firstAfter time.Time
}

func (p *pinger) report(after time.Time) pingReport {
	p.mu.Lock()
	sent := append([]pingRef(nil), p.sent...)
	times := make(map[pingRef]time.Time, len(p.times))
	for k, v := range p.times {
		times[k] = v
	}
	p.mu.Unlock()
	r := pingReport{sent: len(sent), replies: map[pingRef]int{}}
	first := map[pingRef]time.Time{}
	for _, chat := range pingChats {
		for _, m := range p.tg.Messages(chat) {
			ref := pingRef{chat, m.ReplyTo}
			if _, ok := times[ref]; !ok {
				continue
			}
			r.replies[ref]++
			if !strings.HasPrefix(m.Text, "🏓 Pong") {
				r.badReplies = append(r.badReplies, m.Text)
			}
			if f, ok := first[ref]; !ok || m.Time.Before(f) {
				first[ref] = m.Time
			}
		}
	}
	for _, ref := range sent {
		f, ok := first[ref]
		if !ok {
			continue
		}
		r.answered++
		r.maxDelay = max(r.maxDelay, f.Sub(times[ref]))
		if times[ref].After(after) && (r.firstAfter.IsZero() || f.Before(r.firstAfter)) {
			r.firstAfter = f
		}
	}
	return r
}

// settle stops the pings, waits until every ping has a reply and gives
// late duplicates a moment to show.
func (p *pinger) settle(t *testing.T, timeout time.Duration) pingReport {
	t.Helper()
	p.Stop()
	waitFor(t, timeout, "a reply to every ping", func() bool {
		r := p.report(time.Time{})
		return r.answered == r.sent
	})
	time.Sleep(2 * time.Second)
	return p.report(time.Time{})
}

// twice returns the pings answered more than once.
func (r pingReport) twice() []pingRef {
	var out []pingRef
	for ref, n := range r.replies {
		if n > 1 {
			out = append(out, ref)
		}
	}
	return out
}

// requireOnce requires exactly one pong per ping of a settled report.
func (p *pinger) requireOnce(t *testing.T, r pingReport) {
	t.Helper()
	twice := r.twice()
	if len(twice) > 0 || r.answered != r.sent || len(r.badReplies) > 0 {
		for _, chat := range pingChats {
			logChat(t, p.tg, chat)
		}
	}
	require.Equal(t, r.sent, r.answered, "every ping answered")
	require.Empty(t, twice, "pings answered more than once: an update processed twice (chat, message id)")
	require.Empty(t, r.badReplies, "every reply to a ping is a pong")
}

// countDocs counts the documents called name.
func countDocs(docs []tgfake.SentDocument, name string) int {
	n := 0
	for _, d := range docs {
		if d.FileName == name {
			n++
		}
	}
	return n
}

// conflicts counts the getUpdates calls that arrived after since and were
// refused with 409 because another node was polling at the same time.
func conflicts(tg *tgfake.Server, since time.Time) int {
	n := 0
	for _, c := range tg.Calls("getUpdates") {
		if c.Time.After(since) && c.Status == http.StatusConflict {
			n++
		}
	}
	return n
}

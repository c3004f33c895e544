package harness

// Helpers for clusters: several nodes of the real binary sharing one Redis
// and one tgfake, and the views of them a test asserts on (members, the
// poller, where each task runs, sessions per node).

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// ErrStopTimeout is returned by Terminate when the node did not exit in
// time; it was then killed.
var ErrStopTimeout = errors.New("the node did not exit in time")

// ErrNotRunning is returned by the views of a node that was stopped or
// killed.
var ErrNotRunning = errors.New("the node is not running")

// apiClient answers a node's HTTP endpoints; a node that takes longer than
// this to answer its status counts as blocked.
var apiClient = &http.Client{Timeout: 5 * time.Second}

// Member is one cluster member as /api/v1/status lists it.
type Member struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Status is the part of /api/v1/status the cluster tests read.
type Status struct {
	Node    string `json:"node"`
	Cluster struct {
		Members []Member `json:"members"`
		Polling bool     `json:"polling"`
	} `json:"cluster"`
}

// MemberNames returns the members' names, in the order listed.
func (s Status) MemberNames() []string {
	var out []string
	for _, m := range s.Cluster.Members {
		out = append(out, m.Name)
	}
	return out
}

// Task is one task of /api/v1/tasks.
type Task struct {
	ID         string `json:"id"`
	UserID     int64  `json:"user_id"`
	ChatID     int64  `json:"chat_id"`
	Name       string `json:"name"`
	Stage      string `json:"stage"`
	Node       string `json:"node"`
	DoneBytes  int64  `json:"done_bytes"`
	TotalBytes int64  `json:"total_bytes"`
	// Host is the name of the node whose own list held the task (set by
	// the harness, not the bot), to compare with Node.
	Host string `json:"-"`
}

// Running reports whether the node was neither stopped nor killed.
func (b *Bot) Running() bool { return !b.stopped }

// getJSON decodes a node's JSON answer at path.
func (b *Bot) getJSON(path string, out any) error {
	if b.stopped {
		return ErrNotRunning
	}
	resp, err := apiClient.Get("http://" + b.HTTP + path)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("GET %s: decoding: %w", path, err)
	}
	return nil
}

// Status reads the node's /api/v1/status.
func (b *Bot) Status() (Status, error) {
	var s Status
	err := b.getJSON("/api/v1/status", &s)
	return s, err
}

// Tasks reads the node's own tasks (/api/v1/tasks).
func (b *Bot) Tasks() ([]Task, error) {
	var body struct {
		Node  string `json:"node"`
		Tasks []Task `json:"tasks"`
	}
	if err := b.getJSON("/api/v1/tasks", &body); err != nil {
		return nil, err
	}
	for i := range body.Tasks {
		body.Tasks[i].Host = body.Node
	}
	return body.Tasks, nil
}

// Ready reports whether /readyz answers 200.
func (b *Bot) Ready() bool {
	if b.stopped {
		return false
	}
	resp, err := apiClient.Get("http://" + b.HTTP + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Metric reads one unlabelled sample from the node's /metrics.
func (b *Bot) Metric(name string) (float64, error) {
	if b.stopped {
		return 0, ErrNotRunning
	}
	resp, err := apiClient.Get("http://" + b.HTTP + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("reading /metrics: %w", err)
	}
	return 0, fmt.Errorf("metric %s: not found", name)
}

// Sessions is the node's mirrorleech_sessions gauge.
func (b *Bot) Sessions() (int, error) {
	v, err := b.Metric("mirrorleech_sessions")
	return int(v), err
}

// Terminate sends SIGTERM and waits up to max for the node to exit. It
// returns how long the exit took and the process's exit error (nil for a
// clean exit), or ErrStopTimeout after killing a node that did not exit.
func (b *Bot) Terminate(max time.Duration) (time.Duration, error) {
	return b.SendTerm()(max)
}

// SendTerm sends SIGTERM, marks the node stopped and returns at once, so
// that the test can watch the other nodes while this one leaves; the
// returned function waits for the exit as Terminate does. Call it once.
func (b *Bot) SendTerm() (wait func(max time.Duration) (time.Duration, error)) {
	if b.stopped {
		return func(time.Duration) (time.Duration, error) { return 0, ErrNotRunning }
	}
	b.stopped = true
	proc, exited := b.Cmd.Process, b.exited
	start := time.Now()
	_ = proc.Signal(syscall.SIGTERM)
	return func(max time.Duration) (time.Duration, error) {
		select {
		case err := <-exited:
			return time.Since(start), err
		case <-time.After(max):
			_ = proc.Kill()
			<-exited
			return time.Since(start), ErrStopTimeout
		}
	}
}

// Node is one named member of a Cluster.
type Node struct {
	*Bot
	Name string
}

// Cluster is n nodes of the real binary sharing one Redis and one tgfake.
type Cluster struct {
	t     testing.TB
	TG    *tgfake.Server
	Nodes []*Node

	binary, redisURL string
	env              []string
}

// StartCluster starts n nodes named n1…nN on redisURL, one after the
// other, with env overriding the defaults (and the cluster settings), and
// waits until every node lists all n members. At the end of the test the
// running nodes get SIGTERM all at once and must exit cleanly within 15 s;
// when CLUSTER_LOG_DIR is set, every node's log is written there.
func StartCluster(t testing.TB, binary string, tg *tgfake.Server, redisURL string, n int, env ...string) *Cluster {
	t.Helper()
	c := &Cluster{t: t, TG: tg, binary: binary, redisURL: redisURL, env: env}
	for range n {
		c.start()
	}
	// Registered after the nodes' own cleanups, so it runs before them and
	// leaves them nothing to do.
	t.Cleanup(c.stop)
	took := c.WaitMembers(n, 60*time.Second)
	t.Logf("cluster of %d formed %.1f s after the last node was ready", n, took.Seconds())
	return c
}

// start starts the next node, n<k+1>.
func (c *Cluster) start() *Node {
	name := fmt.Sprintf("n%d", len(c.Nodes)+1)
	nodeEnv := append([]string{"REDIS_URL=" + c.redisURL, "NODE_NAME=" + name, "CLUSTER_ADDR=127.0.0.1:0"}, raceEnv()...)
	nodeEnv = append(nodeEnv, c.env...)
	n := &Node{Bot: Start(c.t, c.binary, c.TG, nodeEnv...), Name: name}
	c.Nodes = append(c.Nodes, n)
	return n
}

// AddNode starts one more node with the cluster's settings (scaling out)
// and returns it once it is healthy; it does not wait for the others to
// list it.
func (c *Cluster) AddNode() *Node {
	c.t.Helper()
	return c.start()
}

// stop sends SIGTERM to every running node at once, as a whole cluster
// going down would, and requires each to exit cleanly within 15 s; then it
// checks that no node ever logged the token, and shows the logs when the
// test failed.
func (c *Cluster) stop() {
	waits := map[*Node]func(time.Duration) (time.Duration, error){}
	for _, n := range c.Running() {
		waits[n] = n.SendTerm()
	}
	for _, n := range c.Nodes {
		wait, ok := waits[n]
		if !ok {
			continue
		}
		took, err := wait(20 * time.Second)
		c.t.Logf("%s stopped in %s", n.Name, took.Round(time.Millisecond))
		if err != nil {
			c.t.Errorf("%s exited with %v", n.Name, err)
		}
		if took > 15*time.Second {
			c.t.Errorf("%s: graceful stop took %s, more than 15 s", n.Name, took)
		}
	}
	for _, n := range c.Nodes {
		if strings.Contains(n.Log(), c.TG.Token()) {
			c.t.Errorf("%s logged the bot token", n.Name)
		}
		ours, lib := DataRaces(n.Log())
		for _, r := range ours {
			c.t.Errorf("%s: data race in mirrorleech code:\n%s", n.Name, r)
		}
		if len(lib) > 0 {
			c.t.Logf("%s: %d data race report(s) inside libraries (protoactor-go's cluster layer), not counted", n.Name, len(lib))
		}
	}
	dir := os.Getenv("CLUSTER_LOG_DIR")
	if dir != "" {
		name := strings.NewReplacer("/", "_", " ", "_").Replace(c.t.Name())
		for _, n := range c.Nodes {
			p := filepath.Join(dir, name+"."+n.Name+".log")
			if err := os.WriteFile(p, []byte(n.Log()), 0o644); err != nil {
				c.t.Logf("writing %s: %v", p, err)
			}
		}
	}
	if !c.t.Failed() {
		return
	}
	for _, n := range c.Nodes {
		c.t.Logf("log of %s, without DEBUG records, last %d lines (CLUSTER_LOG_DIR=folder keeps every full log):\n%s",
			n.Name, logTail, Excerpt(n.Log(), logTail))
	}
}

// logTail is how many log lines a failed test shows per node.
const logTail = 150

// Excerpt returns the last max lines of log that are not DEBUG records.
func Excerpt(log string, max int) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		if !strings.Contains(line, "level=DEBUG") {
			keep = append(keep, line)
		}
	}
	if len(keep) > max {
		keep = keep[len(keep)-max:]
	}
	return strings.Join(keep, "\n")
}

// Node returns the node called name, or nil.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Running returns the nodes neither stopped nor killed.
func (c *Cluster) Running() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// Members returns, per running node, the member names it lists; a node
// that does not answer is missing.
func (c *Cluster) Members() map[string][]string {
	out := map[string][]string{}
	for _, n := range c.Running() {
		if s, err := n.Status(); err == nil {
			out[n.Name] = s.MemberNames()
		}
	}
	return out
}

// MembersAgree reports whether every running node lists exactly the n
// running nodes as members.
func (c *Cluster) MembersAgree(n int) bool {
	running := c.Running()
	if len(running) != n {
		return false
	}
	want := map[string]bool{}
	for _, r := range running {
		want[r.Name] = true
	}
	for _, r := range running {
		s, err := r.Status()
		if err != nil || len(s.Cluster.Members) != n {
			return false
		}
		for _, m := range s.Cluster.Members {
			if !want[m.Name] {
				return false
			}
		}
	}
	return true
}

// WaitMembers waits until every running node lists exactly the n running
// nodes as members, and returns how long that took.
func (c *Cluster) WaitMembers(n int, timeout time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for !c.MembersAgree(n) {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out after %s waiting for every node to list %d members; they list %v", timeout, n, c.Members())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// Pollers returns the running nodes that report holding the poller lease.
func (c *Cluster) Pollers() []*Node {
	var out []*Node
	for _, n := range c.Running() {
		if s, err := n.Status(); err == nil && s.Cluster.Polling {
			out = append(out, n)
		}
	}
	return out
}

// WaitPoller waits until exactly one running node polls and returns it.
func (c *Cluster) WaitPoller(timeout time.Duration) *Node {
	c.t.Helper()
	var got *Node
	WaitFor(c.t, timeout, "exactly one polling node", func() bool {
		p := c.Pollers()
		if len(p) == 1 {
			got = p[0]
			return true
		}
		return false
	})
	return got
}

// Tasks returns the tasks of every running node, each with Host set to the
// node whose list held it. Nodes that do not answer are left out.
func (c *Cluster) Tasks() []Task {
	var out []Task
	for _, n := range c.Running() {
		if ts, err := n.Tasks(); err == nil {
			for i := range ts {
				ts[i].Host = n.Name
			}
			out = append(out, ts...)
		}
	}
	return out
}

// TaskNode returns the running node whose own list holds the task, or nil.
func (c *Cluster) TaskNode(id string) *Node {
	for _, t := range c.Tasks() {
		if t.ID == id {
			return c.Node(t.Host)
		}
	}
	return nil
}

// raceEnv makes a race-built node report data races without failing its
// exit: protoactor-go's cluster layer races inside itself (its block list
// is read without its lock, and its endpoint manager races at shutdown), so
// a multi-node run of a race-built bot always reports some. The cluster's
// stop reads every report and fails the test for each race whose own code
// is mirrorleech's (see DataRaces), so the detector still guards the
// project's code.
func raceEnv() []string {
	if os.Getenv("E2E_RACE") != "1" {
		return nil
	}
	return []string{"GORACE=halt_on_error=0 exitcode=0"}
}

// DataRaces splits the race detector's reports in log into those where
// one of the racing accesses happens in mirrorleech's own code and those
// entirely inside libraries. An access counts by its innermost frame
// outside the runtime and the standard library's sync and internal
// packages (a racy map access names runtime.mapassign first, and its
// caller next).
func DataRaces(log string) (ours, library []string) {
	const marker = "WARNING: DATA RACE"
	for _, block := range strings.Split(log, "==================")[1:] {
		if !strings.Contains(block, marker) {
			continue
		}
		if racesInProject(block) {
			ours = append(ours, strings.TrimSpace(block))
		} else {
			library = append(library, strings.TrimSpace(block))
		}
	}
	return ours, library
}

func racesInProject(block string) bool {
	lines := strings.Split(block, "\n")
	for i, line := range lines {
		l := strings.TrimSpace(line)
		if !(strings.HasPrefix(l, "Read at") || strings.HasPrefix(l, "Write at") ||
			strings.HasPrefix(l, "Previous read at") || strings.HasPrefix(l, "Previous write at") ||
			strings.HasPrefix(l, "Atomic") || strings.HasPrefix(l, "Previous atomic")) {
			continue
		}
		for _, f := range lines[i+1:] {
			f = strings.TrimSpace(f)
			if f == "" || strings.HasPrefix(f, "Previous") || strings.HasPrefix(f, "Goroutine") {
				break
			}
			if strings.HasPrefix(f, "/") || strings.HasPrefix(f, "<autogenerated>") {
				continue // a file:line line
			}
			if strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "sync.") || strings.HasPrefix(f, "sync/") ||
				strings.HasPrefix(f, "internal/") {
				continue
			}
			if strings.HasPrefix(f, "github.com/mirrorleech/") || strings.HasPrefix(f, "main.") {
				return true
			}
			break
		}
	}
	return false
}

// WaitTasks waits until, in the tasks list returns, every one of users
// has a task for which cond holds, and returns those tasks by user.
func WaitTasks(t testing.TB, timeout time.Duration, what string, list func() []Task, users []int64, cond func(Task) bool) map[int64]Task {
	t.Helper()
	got := map[int64]Task{}
	WaitFor(t, timeout, what, func() bool {
		clear(got)
		for _, task := range list() {
			if cond(task) {
				got[task.UserID] = task
			}
		}
		for _, u := range users {
			if _, ok := got[u]; !ok {
				return false
			}
		}
		return true
	})
	return got
}

package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

const (
	mib      = 1 << 20
	ownerID  = harness.OwnerID
	apiToken = "deploy-test-api-token-0123456789"
)

var waitFor = harness.WaitFor

// replica is one running node container, as the host reaches it.
type replica struct {
	id   string // container id
	name string // NODE_NAME: the container's host name
	ip   string // on the compose network
}

// status is the part of /api/v1/status this test reads.
type status struct {
	Node    string `json:"node"`
	Version string `json:"version"`
	Cluster struct {
		Members []harness.Member `json:"members"`
		Polling bool             `json:"polling"`
	} `json:"cluster"`
}

var apiClient = &http.Client{Timeout: 5 * time.Second}

// get decodes a replica's JSON answer at path; /api demands the token
// because the node listens on every address.
func (r replica) get(path string, out any) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(r.ip, "8080")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := apiClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s on %s: %w", path, r.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s on %s: %s", path, r.name, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (r replica) status() (status, error) {
	var s status
	err := r.get("/api/v1/status", &s)
	return s, err
}

func (r replica) tasks() ([]harness.Task, error) {
	var body struct {
		Node  string         `json:"node"`
		Tasks []harness.Task `json:"tasks"`
	}
	if err := r.get("/api/v1/tasks", &body); err != nil {
		return nil, err
	}
	for i := range body.Tasks {
		body.Tasks[i].Host = body.Node
	}
	return body.Tasks, nil
}

// replicas returns the node service's running containers.
func (p *project) replicas() []replica {
	p.t.Helper()
	var out []replica
	for _, id := range p.containers("node") {
		f := strings.Split(inspect(p.t, "container", id,
			`{{.State.Running}}|{{.Config.Hostname}}|{{with index .NetworkSettings.Networks "`+p.name+`_default"}}{{.IPAddress}}{{end}}`), "|")
		if len(f) != 3 || f[0] != "true" {
			continue
		}
		out = append(out, replica{id: id, name: f[1], ip: f[2]})
	}
	return out
}

// waitJoined waits until n replicas run, each answers with version and
// lists every running replica as a member, and exactly one polls.
func (p *project) waitJoined(n int, version string, timeout time.Duration) []replica {
	p.t.Helper()
	var rs []replica
	var last string
	deadline := time.Now().Add(timeout)
	for {
		rs = p.replicas()
		err := joined(rs, n, version)
		if err == nil {
			return rs
		}
		if msg := err.Error(); msg != last {
			p.t.Logf("waiting for the cluster: %s", msg)
			last = msg
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the cluster did not form within %s: %v", timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func joined(rs []replica, n int, version string) error {
	if len(rs) != n {
		return fmt.Errorf("%d replicas run, want %d", len(rs), n)
	}
	pollers := 0
	for _, r := range rs {
		s, err := r.status()
		if err != nil {
			return err
		}
		if version != "" && s.Version != version {
			return fmt.Errorf("%s runs version %q, want %q", r.name, s.Version, version)
		}
		var names []string
		for _, m := range s.Cluster.Members {
			names = append(names, m.Name)
		}
		for _, other := range rs {
			if !strings.Contains(strings.Join(names, " "), other.name) {
				return fmt.Errorf("%s lists members %v, without %s", r.name, names, other.name)
			}
		}
		if len(names) != n {
			return fmt.Errorf("%s lists %d members, want %d", r.name, len(names), n)
		}
		if s.Cluster.Polling {
			pollers++
		}
	}
	if pollers != 1 {
		return fmt.Errorf("%d replicas poll Telegram, want 1", pollers)
	}
	return nil
}

// allTasks lists the tasks of every running replica.
func allTasks(rs []replica) []harness.Task {
	var out []harness.Task
	for _, r := range rs {
		if ts, err := r.tasks(); err == nil {
			out = append(out, ts...)
		}
	}
	return out
}

// serveOn serves h on addr (an address of this host) until the test ends
// and returns its base URL.
func serveOn(t *testing.T, ip string, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving on %s: %v", ip, err)
		}
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return "http://" + l.Addr().String()
}

// job is one user's leech of one origin file in parts of 1 MiB.
type job struct {
	user  int64
	name  string
	sha   string
	parts int
}

// slowJobs adds one throttled file per user to o: 4 MiB at 320 KiB/s over
// one connection is about 13 s of download, long enough to lose a node or
// upgrade the cluster in the middle.
func slowJobs(o *origin.Origin, prefix string, users []int64) []job {
	var jobs []job
	for i, u := range users {
		name := fmt.Sprintf("%s%d.bin", prefix, u)
		o.Add(origin.File{Path: "/" + name, Size: 4*mib - int64(i+1)*777, Seed: uint64(u), RateLimit: 320 << 10})
		jobs = append(jobs, job{user: u, name: name, sha: o.SHA256("/" + name), parts: 4})
	}
	return jobs
}

// waitDownloading waits until every job's task downloads and has at least
// min bytes, and returns the tasks by user.
func waitDownloading(t *testing.T, p *project, jobs []job, min int64, timeout time.Duration) map[int64]harness.Task {
	t.Helper()
	users := make([]int64, len(jobs))
	for i, j := range jobs {
		users[i] = j.user
	}
	return harness.WaitTasks(t, timeout, "every task downloading", func() []harness.Task { return allTasks(p.replicas()) },
		users, func(task harness.Task) bool { return task.Stage == "downloading" && task.DoneBytes >= min })
}

func waitFinished(t *testing.T, tg *tgfake.Server, jobs []job, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "every leech to finish", func() bool {
		for _, j := range jobs {
			if !harness.Finished(tg, j.user, j.name) {
				return false
			}
		}
		return true
	})
}

func userRange(first int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)
	}
	return out
}

// docker compose up --scale node=3 with the repository's compose file and
// images built offline: the replicas join one cluster through Redis,
// users' tasks spread over them, `docker kill` of a replica moves its
// tasks to the others, and an upgrade (a new image, `docker compose up -d
// --no-deps node`) recreates every replica without losing a task; every
// file arrives exactly once, part by part, with its checksum.
func TestComposeCluster(t *testing.T) {
	needDocker(t)
	killUsers := userRange(5101, 8)
	upgradeUsers := userRange(5201, 3)
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t)
	killJobs := slowJobs(o, "k", killUsers)
	upgradeJobs := slowJobs(o, "u", upgradeUsers)

	var chats []string
	for _, u := range append(killUsers, upgradeUsers...) {
		chats = append(chats, fmt.Sprint(u))
	}
	env := map[string]string{
		"MIRRORLEECH_IMAGE": botImage,
		"REDIS_IMAGE":       redisImage,
		"BOT_TOKEN":         tg.Token(),
		"OWNER_ID":          fmt.Sprint(ownerID),
		"AUTHORIZED_CHATS":  strings.Join(chats, " "),
		"API_TOKEN":         apiToken,
		// The fake and the origin are on this host, on the compose
		// network's gateway: private addresses.
		"ALLOW_PRIVATE_URLS":       "true",
		"TELEGRAM_LOCAL":           "false",
		"LEECH_SPLIT_SIZE":         "1MiB",
		"HTTP_CONNECTIONS":         "1",
		"MAX_CONCURRENT_DOWNLOADS": "0",
		"STATUS_INTERVAL":          "3s",
		"RETRY_INITIAL_DELAY":      "200ms",
		"TORRENT_DHT":              "false",
		"TORRENT_TRACKERS":         "false",
		"TORRENT_PEX":              "false",
		"LOG_LEVEL":                "debug",
	}
	p := newProject(t, env)

	// Redis first: it makes the project's network, whose gateway is this
	// host as the containers see it.
	start := time.Now()
	p.compose(3*time.Minute, "up", "-d", "redis")
	gateway := inspect(t, "network", p.name+"_default", "{{(index .IPAM.Config 0).Gateway}}")
	require.NotEmpty(t, gateway)
	env["TELEGRAM_API_URL"] = serveOn(t, gateway, tg)
	originURL := serveOn(t, gateway, o)
	p.writeEnv(env)
	t.Cleanup(p.Down) // before the fake and the origin close

	p.compose(3*time.Minute, "up", "-d", "--scale", "node=3")
	rs := p.waitJoined(3, "", 2*time.Minute)
	t.Logf("redis and three replicas up and joined in %.1f s: %v", time.Since(start).Seconds(), names(rs))
	for _, r := range rs {
		uid := inspect(t, "container", r.id, "{{.State.Pid}}")
		require.Equal(t, "65532", processUID(t, uid), "replica %s runs as the image's user", r.name)
	}

	// Leeches from eight users spread over the replicas.
	for _, j := range killJobs {
		tg.PushText(j.user, j.user, "/leech "+originURL+"/"+j.name)
	}
	tasks := waitDownloading(t, p, killJobs, mib, 90*time.Second)
	perNode := map[string]int{}
	for _, task := range tasks {
		perNode[task.Host]++
	}
	t.Logf("tasks per replica: %v", perNode)
	require.GreaterOrEqual(t, len(perNode), 2, "the users' tasks run on more than one replica")

	// docker kill of a replica with tasks, preferably not the poller.
	victim := pickVictim(t, rs, tasks)
	lost := map[int64]harness.Task{}
	for u, task := range tasks {
		if task.Host == victim.name {
			lost[u] = task
		}
	}
	t.Logf("docker kill %s, which runs %d of the %d tasks", victim.name, len(lost), len(tasks))
	killAt := time.Now()
	docker(t, "kill", victim.id)
	moved := map[int64]time.Duration{}
	waitFor(t, 90*time.Second, "the killed replica's tasks to run on another", func() bool {
		for _, task := range allTasks(p.replicas()) {
			old, ok := lost[task.UserID]
			if !ok || task.Host == old.Host {
				continue
			}
			if _, seen := moved[task.UserID]; !seen {
				moved[task.UserID] = time.Since(killAt)
				require.Equal(t, old.ID, task.ID, "the task keeps its id when it moves")
			}
		}
		return len(moved) == len(lost)
	})
	waitFinished(t, tg, killJobs, 2*time.Minute)
	var worst time.Duration
	for _, d := range moved {
		worst = max(worst, d)
	}
	t.Logf("after docker kill: the lost tasks ran elsewhere within %.1f s, every leech finished %.1f s after the kill",
		worst.Seconds(), time.Since(killAt).Seconds())
	time.Sleep(2 * time.Second) // late duplicates would show now
	defer logChatsOnFailure(t, tg, append(killUsers, upgradeUsers...))
	for _, j := range killJobs {
		harness.RequireDeliveredOnce(t, tg, j.user, j.name, j.sha, j.parts)
		notes := harness.MessagesWith(tg, j.user, "♻️")
		if _, ok := lost[j.user]; ok {
			require.Len(t, notes, 1, "user %d: told once that the task moved", j.user)
		} else {
			require.Empty(t, notes, "user %d: its task stayed where it was", j.user)
		}
	}

	// An upgrade in the middle of three leeches: a new image, then
	// `docker compose up -d --no-deps node` recreates every replica (and
	// starts the killed one again).
	for _, j := range upgradeJobs {
		tg.PushText(j.user, j.user, "/leech "+originURL+"/"+j.name)
	}
	waitDownloading(t, p, upgradeJobs, mib/2, 90*time.Second)
	const upgraded = "deploytest-upgraded"
	oldImage := inspect(t, "image", botImage, "{{.Id}}")
	t.Cleanup(func() { _, _ = run(t.Context(), "", "docker", "image", "rm", oldImage) })
	buildStart := time.Now()
	require.NoError(t, buildImages(upgraded))
	t.Logf("new image built in %.1f s", time.Since(buildStart).Seconds())
	upAt := time.Now()
	p.compose(5*time.Minute, "up", "-d", "--no-deps", "--scale", "node=3", "node")
	rs = p.waitJoined(3, upgraded, 2*time.Minute)
	t.Logf("upgrade: three replicas of the new image joined %.1f s after docker-compose up began: %v",
		time.Since(upAt).Seconds(), names(rs))
	waitFinished(t, tg, upgradeJobs, 2*time.Minute)
	t.Logf("upgrade: the three leeches finished %.1f s after docker-compose up began", time.Since(upAt).Seconds())
	time.Sleep(2 * time.Second)
	for _, j := range upgradeJobs {
		harness.RequireDeliveredOnce(t, tg, j.user, j.name, j.sha, j.parts)
	}
	for _, j := range killJobs {
		harness.RequireDeliveredOnce(t, tg, j.user, j.name, j.sha, j.parts)
	}
}

func names(rs []replica) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.name)
	}
	return out
}

// pickVictim returns a replica running tasks, not the poller if another
// replica runs tasks too, so the test sees a task failover on its own.
func pickVictim(t *testing.T, rs []replica, tasks map[int64]harness.Task) replica {
	t.Helper()
	var candidates []replica
	for _, r := range rs {
		for _, task := range tasks {
			if task.Host == r.name {
				candidates = append(candidates, r)
				break
			}
		}
	}
	require.NotEmpty(t, candidates)
	for _, r := range candidates {
		if s, err := r.status(); err == nil && !s.Cluster.Polling {
			return r
		}
	}
	return candidates[0]
}

// processUID reads the real user id of a host process from /proc.
func processUID(t *testing.T, pid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no Uid line in /proc/%s/status", pid)
	return ""
}

func logChatsOnFailure(t *testing.T, tg *tgfake.Server, users []int64) {
	if !t.Failed() {
		return
	}
	for _, u := range users {
		harness.LogChat(t, tg, u)
	}
}

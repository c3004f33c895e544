package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/origin"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// scrape reads the node's /metrics.
func scrape(t *testing.T, bot *harness.Bot) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + bot.HTTP + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value returns the value of the series of name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
	var sum float64
	found := false
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	if !found {
		return -1
	}
	return sum
}

func TestMetricsFollowTheTaskLifecycle(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	size := int64(2*mib + 5)
	o := origin.New(t, origin.File{Path: "/m.bin", Size: size, Seed: 31})
	bot := startBot(t, tg, "LEECH_SPLIT_SIZE=1MiB")

	tg.FailNext("sendDocument", 1, 429, "Too Many Requests: retry after 1", 1)
	tg.PushText(userID, userID, "/leech "+o.URL("/m.bin"))
	waitMessage(t, tg, userID, "✅", 60*time.Second)
	tg.PushText(777, 777, "/leech "+o.URL("/m.bin"))
	waitMessage(t, tg, 777, "not authorized", 15*time.Second)

	var f map[string]*dto.MetricFamily
	waitFor(t, 10*time.Second, "the finished task in the metrics", func() bool {
		f = scrape(t, bot)
		return value(f, "mirrorleech_tasks_finished_total", map[string]string{"kind": "leech", "result": "done"}) == 1
	})
	require.Equal(t, 1.0, value(f, "mirrorleech_tasks_started_total", map[string]string{"kind": "leech"}))
	for _, state := range []string{"queued", "downloading", "uploading"} {
		require.Zero(t, value(f, "mirrorleech_tasks", map[string]string{"state": state}), state)
	}
	require.Equal(t, float64(size), value(f, "mirrorleech_downloaded_bytes_total", map[string]string{"engine": "http"}))
	require.Equal(t, float64(size), value(f, "mirrorleech_uploaded_bytes_total", map[string]string{"destination": "telegram"}))
	require.Equal(t, 3.0, value(f, "mirrorleech_telegram_requests_total", map[string]string{"method": "senddocument", "code": "200"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_telegram_requests_total", map[string]string{"method": "senddocument", "code": "429"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_telegram_flood_waits_total", nil))
	require.GreaterOrEqual(t, value(f, "mirrorleech_telegram_flood_wait_seconds_total", nil), 1.0)
	require.Equal(t, 1.0, value(f, "mirrorleech_commands_total", map[string]string{"command": "leech", "outcome": "ok"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_commands_total", map[string]string{"command": "leech", "outcome": "refused"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_stage_duration_seconds", map[string]string{"stage": "download", "engine": "http"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_stage_duration_seconds", map[string]string{"stage": "upload", "engine": "telegram"}))
	require.Zero(t, value(f, "mirrorleech_active_users", nil))
	require.Equal(t, 1.0, value(f, "mirrorleech_cluster_members", nil))
	require.Equal(t, 1.0, value(f, "mirrorleech_sessions", nil))
	require.Positive(t, value(f, "mirrorleech_disk_free_bytes", nil))
	require.Equal(t, 1.0, value(f, "mirrorleech_build_info", nil))
	for name, fam := range f {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				require.NotContains(t, l.GetValue(), fmt.Sprint(userID), "%s: no user ids in labels", name)
				require.NotContains(t, l.GetValue(), "m.bin", "%s: no file names in labels", name)
			}
		}
	}
}

func TestSupervisedRestartsAreCounted(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/r.bin", Size: 10, Seed: 1, Status: 503})
	bot := startBot(t, tg, "RETRY_MAX_ATTEMPTS=3", "RETRY_INITIAL_DELAY=100ms")

	tg.PushText(userID, userID, "/mirror "+o.URL("/r.bin"))
	waitMessage(t, tg, userID, "❌", 30*time.Second)
	f := scrape(t, bot)
	require.Equal(t, 2.0, value(f, "mirrorleech_supervision_decisions_total", map[string]string{"class": "transient", "decision": "restart"}),
		"two restarts for three attempts, each counted once")
	require.Equal(t, 1.0, value(f, "mirrorleech_supervision_decisions_total", map[string]string{"class": "transient", "decision": "stop"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_tasks_finished_total", map[string]string{"kind": "mirror", "result": "failed"}))
	require.Equal(t, 2.0, value(f, "mirrorleech_actors_restarted_total", map[string]string{"kind": "download"}),
		"the download stage was restarted twice, each restart counted once")
	require.Equal(t, 1.0, value(f, "mirrorleech_actors_spawned_total", map[string]string{"kind": "download"}),
		"a restart is not a spawn")
}

func getJSON(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(b, &out), string(b))
	}
	return resp.StatusCode, out
}

func TestStatusAPIAndAccess(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/api.bin", Size: 20 * mib, Seed: 4, RateLimit: 256 << 10})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	const token = "an-api-token-of-some-length"
	bot := startBot(t, tg, fmt.Sprintf("HTTP_ADDR=0.0.0.0:%d", port), "API_TOKEN="+token)
	base := "http://" + bot.HTTP

	code, _ := getJSON(t, base+"/api/v1/status", "")
	require.Equal(t, http.StatusUnauthorized, code, "no token on a non-loopback address")
	code, health := getJSON(t, base+"/health", "")
	require.Equal(t, http.StatusOK, code, "/health is open like /healthz")
	require.Equal(t, "ok", health["status"])
	require.Equal(t, "e2e", health["node"])
	require.Equal(t, true, health["store_reachable"])
	require.Equal(t, true, health["telegram_reachable"])
	require.Positive(t, health["memory_rss_bytes"])
	require.Positive(t, health["disk_free_bytes"])
	require.Positive(t, health["goroutines"])
	code, _ = getJSON(t, base+"/api/v1/status", "wrong")
	require.Equal(t, http.StatusUnauthorized, code)

	tg.PushText(userID, userID, "/leech "+o.URL("/api.bin"))
	var tasks []any
	waitFor(t, 20*time.Second, "the running task in /api/v1/tasks", func() bool {
		code, body := getJSON(t, base+"/api/v1/tasks", token)
		if code != http.StatusOK {
			return false
		}
		tasks, _ = body["tasks"].([]any)
		return len(tasks) == 1 && tasks[0].(map[string]any)["stage"] == "downloading"
	})
	task := tasks[0].(map[string]any)
	require.Equal(t, "api.bin", task["name"])
	require.Equal(t, float64(userID), task["user_id"])
	require.Equal(t, "e2e", task["node"])

	code, status := getJSON(t, base+"/api/v1/status", token)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "e2e", status["node"])
	require.Equal(t, 1.0, status["tasks"].(map[string]any)["downloading"])
	members := status["cluster"].(map[string]any)["members"].([]any)
	require.Len(t, members, 1)
	require.Equal(t, "e2e", members[0].(map[string]any)["name"])
	caps := status["capabilities"].(map[string]any)
	require.Contains(t, caps["engines"], "http")

	code, cl := getJSON(t, base+"/api/v1/tasks?scope=cluster", token)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "cluster", cl["scope"])
	require.True(t, strings.Contains(fmt.Sprint(cl["nodes"]), "api.bin"))
}

// During a running task the actor tree shows session → task → download, and
// the metrics count the actors by kind.
func TestActorTreeShowsTheRunningTask(t *testing.T) {
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/tree.bin", Size: 20 * mib, Seed: 6, RateLimit: 256 << 10})
	bot := startBot(t, tg)

	tg.PushText(userID, userID, "/mirror "+o.URL("/tree.bin"))
	var actors map[string]actortree.Actor
	var dl actortree.Actor
	waitFor(t, 20*time.Second, "a download stage in the actor tree", func() bool {
		resp, err := http.Get("http://" + bot.HTTP + "/debug/actors")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var tree actortree.Tree
		if json.NewDecoder(resp.Body).Decode(&tree) != nil {
			return false
		}
		actors = map[string]actortree.Actor{}
		for _, a := range tree.Actors {
			actors[a.ID] = a
			if a.Kind == "download" {
				dl = a
			}
		}
		return dl.ID != ""
	})
	task := actors[dl.Parent]
	require.Equal(t, "task", task.Kind)
	require.Contains(t, task.Children, dl.ID)
	require.Equal(t, "downloading", task.State["stage"])
	session := actors[task.Parent]
	require.Equal(t, "session", session.Kind)
	require.Equal(t, float64(userID), session.State["user_id"])
	require.Equal(t, task.State["task_id"], dl.State["task_id"])
	for _, top := range []string{"outbox", "gateway", "cron", "slots", "grains"} {
		_, ok := actors[top]
		require.True(t, ok, "top-level actor %s in the tree", top)
	}

	f := scrape(t, bot)
	require.Equal(t, 1.0, value(f, "mirrorleech_actors", map[string]string{"kind": "download"}))
	require.Equal(t, 1.0, value(f, "mirrorleech_actors", map[string]string{"kind": "session"}))
	require.GreaterOrEqual(t, value(f, "mirrorleech_actors_spawned_total", map[string]string{"kind": "task"}), 1.0)

	// The HTML view is served to browsers.
	req, err := http.NewRequest(http.MethodGet, "http://"+bot.HTTP+"/debug/actors", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	require.Contains(t, string(b), "<html")
}

// The HTML view of the real node renders the running task's tree in a
// headless browser.
func TestActorTreeHTMLInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make test-deps installs it)")
	}
	tg := tgfake.New(t, tgfake.Options{})
	o := origin.New(t, origin.File{Path: "/html.bin", Size: 20 * mib, Seed: 7, RateLimit: 256 << 10})
	bot := startBot(t, tg)
	tg.PushText(userID, userID, "/mirror "+o.URL("/html.bin"))
	waitFor(t, 20*time.Second, "the download to start", func() bool { return o.BytesServed() > 0 })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000", "--dump-dom",
		"http://"+bot.HTTP+"/debug/actors").Output()
	require.NoError(t, err)
	dom := string(out)
	for _, kind := range []string{"session", "task", "download"} {
		require.Contains(t, dom, `data-kind="`+kind+`"`, "the %s actor is rendered", kind)
	}
}

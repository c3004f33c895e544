package monitoring

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// Metrics is the node's set of mirrorleech_ metrics. Label values are
// bounded by construction: kinds, stages, engines, methods, codes — never
// user ids, chat ids, URLs or file names.
type Metrics struct {
	TasksStarted    *prometheus.CounterVec
	TasksFinished   *prometheus.CounterVec
	Tasks           *prometheus.GaugeVec
	StageDuration   *prometheus.HistogramVec
	Downloaded      *prometheus.CounterVec
	Uploaded        *prometheus.CounterVec
	Speed           *prometheus.GaugeVec
	PeersRefused    *prometheus.CounterVec
	ActorsSpawned   *prometheus.CounterVec
	ActorsRestarted *prometheus.CounterVec
	ActorsStopped   *prometheus.CounterVec
	Actors          *prometheus.GaugeVec
	Decisions       *prometheus.CounterVec
	DeadLetters     prometheus.Counter
	TelegramCalls   *prometheus.CounterVec
	FloodWaits      prometheus.Counter
	FloodWaitSecs   prometheus.Counter
	OutboxQueue     prometheus.Gauge
	MaybeDuplicated prometheus.Counter
	Commands        *prometheus.CounterVec
	ActiveUsers     prometheus.Gauge
	ClusterMembers  prometheus.Gauge
	Sessions        prometheus.Gauge
	Poller          prometheus.Gauge
	OrphansResumed  prometheus.Counter
	StoreErrors     *prometheus.CounterVec
	DiskFree        prometheus.Gauge
	BuildInfo       *prometheus.GaugeVec

	mu     sync.Mutex
	users  map[int64]int          // active tasks per user (the gauge is the map's size)
	speeds map[string]speedByTask // task → its current speed
}

type speedByTask struct {
	direction string
	speed     float64
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer, version string) (*Metrics, error) {
	const ns = "mirrorleech"
	m := &Metrics{
		TasksStarted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tasks_started_total",
			Help: "Tasks started (or resumed) on this node, by kind."}, []string{"kind"}),
		TasksFinished: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tasks_finished_total",
			Help: "Tasks finished on this node, by kind and result."}, []string{"kind", "result"}),
		Tasks: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "tasks",
			Help: "Tasks on this node now, by state."}, []string{"state"}),
		StageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "stage_duration_seconds",
			Help:    "Duration of task stages, by stage and engine.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600}}, []string{"stage", "engine"}),
		Downloaded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "downloaded_bytes_total",
			Help: "Bytes of finished downloads, by engine."}, []string{"engine"}),
		Uploaded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "uploaded_bytes_total",
			Help: "Bytes of finished deliveries, by destination."}, []string{"destination"}),
		Speed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "transfer_speed_bytes",
			Help: "Current transfer speed of the node in bytes per second, by direction."}, []string{"direction"}),
		PeersRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "torrent_peers_refused_total",
			Help: "BitTorrent peer addresses refused as private (ALLOW_PRIVATE_URLS off), by where they came from."},
			[]string{"source"}),
		ActorsSpawned: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "actors_spawned_total",
			Help: "Actors spawned, by kind."}, []string{"kind"}),
		ActorsRestarted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "actors_restarted_total",
			Help: "Actor restarts by their supervisor, by kind."}, []string{"kind"}),
		ActorsStopped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "actors_stopped_total",
			Help: "Actors stopped, by kind."}, []string{"kind"}),
		Actors: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "actors",
			Help: "Live actors, by kind."}, []string{"kind"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "supervision_decisions_total",
			Help: "Supervision decisions over failed stages, by error class and decision."}, []string{"class", "decision"}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "dead_letters_total",
			Help: "Messages sent to actors that no longer exist."}),
		TelegramCalls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "telegram_requests_total",
			Help: "Bot API requests, by method and HTTP result code (\"error\" when no answer came)."}, []string{"method", "code"}),
		FloodWaits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "telegram_flood_waits_total",
			Help: "Bot API 429 answers (flood waits)."}),
		FloodWaitSecs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "telegram_flood_wait_seconds_total",
			Help: "Seconds of retry_after Telegram asked the node to wait."}),
		OutboxQueue: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "outbox_queue_length",
			Help: "Bot API calls waiting in the outbox."}),
		MaybeDuplicated: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "uploads_maybe_duplicated_total",
			Help: "Documents that failed after their whole body reached the Bot API (5xx, dropped connection): " +
				"Telegram may have posted them, and the retry posts them again."}),
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "commands_total",
			Help: "Chat commands, by command and outcome."}, []string{"command", "outcome"}),
		ActiveUsers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "active_users",
			Help: "Distinct users with unfinished tasks on this node."}),
		ClusterMembers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "cluster_members",
			Help: "Members of the cluster as this node sees it."}),
		Sessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "sessions",
			Help: "User sessions hosted by this node."}),
		Poller: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "poller",
			Help: "1 while this node holds the Telegram polling lease."}),
		OrphansResumed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "orphaned_users_resumed_total",
			Help: "Users whose tasks this node found without a live owner and sent to their sessions."}),
		StoreErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "store_errors_total",
			Help: "Failed store operations, by operation."}, []string{"op"}),
		DiskFree: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "disk_free_bytes",
			Help: "Free bytes of DOWNLOAD_DIR's filesystem."}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
			Help: "Always 1; the version label names the build."}, []string{"version"}),
		users:  map[int64]int{},
		speeds: map[string]speedByTask{},
	}
	for _, c := range []prometheus.Collector{m.TasksStarted, m.TasksFinished, m.Tasks, m.StageDuration, m.Downloaded,
		m.Uploaded, m.Speed, m.PeersRefused, m.ActorsSpawned, m.ActorsRestarted, m.ActorsStopped, m.Actors, m.Decisions,
		m.DeadLetters, m.TelegramCalls, m.FloodWaits, m.FloodWaitSecs, m.OutboxQueue, m.MaybeDuplicated, m.Commands,
		m.ActiveUsers, m.ClusterMembers,
		m.Sessions, m.Poller, m.OrphansResumed, m.StoreErrors, m.DiskFree, m.BuildInfo} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.BuildInfo.WithLabelValues(version).Set(1)
	// The state gauges start at zero so dashboards have series from the start.
	for _, s := range []messages.Stage{messages.StageQueued, messages.StageDownloading, messages.StageArchiving, messages.StageUploading} {
		m.Tasks.WithLabelValues(s.String())
	}
	for _, d := range []string{"download", "upload"} {
		m.Speed.WithLabelValues(d)
	}
	for _, s := range torrent.PeerSources() {
		m.PeersRefused.WithLabelValues(s)
	}
	// Every bounded series exists from the start, at zero, so rates and
	// alerts work before the first event and a scrape shows the whole set.
	for _, k := range []string{messages.Mirror.String(), messages.Leech.String()} {
		m.TasksStarted.WithLabelValues(k)
		for _, r := range []messages.Stage{messages.StageDone, messages.StageFailed, messages.StageCancelled} {
			m.TasksFinished.WithLabelValues(k, r.String())
		}
	}
	for _, e := range []string{"http", "telegram", "torrent"} {
		m.StageDuration.WithLabelValues("download", e)
		m.Downloaded.WithLabelValues(e)
	}
	for _, e := range []string{"zip", "extract"} {
		m.StageDuration.WithLabelValues("archive", e)
	}
	for _, d := range []string{"telegram", "dir"} {
		m.StageDuration.WithLabelValues("upload", d)
		m.Uploaded.WithLabelValues(d)
	}
	for _, c := range []supervision.Class{supervision.Transient, supervision.RateLimited, supervision.Permanent, supervision.Cancelled} {
		for _, d := range []string{"restart", "stop"} {
			m.Decisions.WithLabelValues(c.String(), d)
		}
	}
	for _, k := range []string{"gateway", "outbox", "cron", "slots", "grains", "torrents", "session", "chat", "task", "download", "archive", "upload"} {
		m.ActorsRestarted.WithLabelValues(k)
		m.ActorsStopped.WithLabelValues(k)
	}
	for _, op := range []string{"authorized_chats", "set_authorized", "ping", "put_task", "get_task", "update_task",
		"tasks", "delete_tasks"} {
		m.StoreErrors.WithLabelValues(op)
	}
	return m, nil
}

// MetricNames lists every mirrorleech_ metric the node exports (the
// dashboard and alert rules may use exactly these).
func MetricNames() []string {
	return []string{
		"mirrorleech_tasks_started_total", "mirrorleech_tasks_finished_total", "mirrorleech_tasks",
		"mirrorleech_stage_duration_seconds", "mirrorleech_downloaded_bytes_total", "mirrorleech_uploaded_bytes_total",
		"mirrorleech_transfer_speed_bytes", "mirrorleech_torrent_peers_refused_total", "mirrorleech_actors_spawned_total", "mirrorleech_actors_restarted_total",
		"mirrorleech_actors_stopped_total", "mirrorleech_actors", "mirrorleech_supervision_decisions_total",
		"mirrorleech_dead_letters_total", "mirrorleech_telegram_requests_total", "mirrorleech_telegram_flood_waits_total",
		"mirrorleech_telegram_flood_wait_seconds_total", "mirrorleech_outbox_queue_length",
		"mirrorleech_uploads_maybe_duplicated_total", "mirrorleech_commands_total",
		"mirrorleech_active_users", "mirrorleech_cluster_members", "mirrorleech_sessions", "mirrorleech_poller",
		"mirrorleech_orphaned_users_resumed_total", "mirrorleech_store_errors_total",
		"mirrorleech_disk_free_bytes", "mirrorleech_build_info",
	}
}

// Subscribe feeds the metrics from the task lifecycle events, dead letters
// and cluster topology published on sys's event stream. The subscriber only
// updates metrics (thread-safe), so it never slows the publisher.
func (m *Metrics) Subscribe(sys *actor.ActorSystem) *eventstream.Subscription {
	return sys.EventStream.Subscribe(func(evt interface{}) {
		switch e := evt.(type) {
		case *messages.TaskStageChanged:
			m.stageChanged(e)
		case *messages.Transferred:
			if e.Direction == "download" {
				m.Downloaded.WithLabelValues(e.Via).Add(float64(e.Bytes))
			} else {
				m.Uploaded.WithLabelValues(e.Via).Add(float64(e.Bytes))
			}
		case *messages.TaskSnapshotted:
			m.snapshot(e)
		case *actor.DeadLetterEvent:
			m.DeadLetters.Inc()
		case *cluster.ClusterTopology:
			m.ClusterMembers.Set(float64(len(e.Members)))
		}
	})
}

func (m *Metrics) stageChanged(e *messages.TaskStageChanged) {
	kind := e.Kind.String()
	if e.From == 0 {
		m.TasksStarted.WithLabelValues(kind).Inc()
		m.mu.Lock()
		m.users[e.UserID]++
		m.ActiveUsers.Set(float64(len(m.users)))
		m.mu.Unlock()
	} else if !e.From.Final() {
		m.Tasks.WithLabelValues(e.From.String()).Dec()
		if stage := stageLabel(e.From); stage != "" && !e.Entered.IsZero() {
			m.StageDuration.WithLabelValues(stage, e.Engine).Observe(time.Since(e.Entered).Seconds())
		}
	}
	if !e.To.Final() {
		m.Tasks.WithLabelValues(e.To.String()).Inc()
		return
	}
	m.TasksFinished.WithLabelValues(kind, e.To.String()).Inc()
	m.mu.Lock()
	if m.users[e.UserID]--; m.users[e.UserID] <= 0 {
		delete(m.users, e.UserID)
	}
	m.ActiveUsers.Set(float64(len(m.users)))
	delete(m.speeds, e.TaskID)
	m.mu.Unlock()
}

func stageLabel(s messages.Stage) string {
	switch s {
	case messages.StageDownloading:
		return "download"
	case messages.StageArchiving:
		return "archive"
	case messages.StageUploading:
		return "upload"
	}
	return ""
}

func (m *Metrics) snapshot(e *messages.TaskSnapshotted) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir := ""
	switch e.Task.Stage {
	case messages.StageDownloading:
		dir = "download"
	case messages.StageUploading:
		dir = "upload"
	}
	if dir == "" {
		delete(m.speeds, e.Task.TaskID)
	} else {
		m.speeds[e.Task.TaskID] = speedByTask{direction: dir, speed: e.Task.Speed}
	}
	var down, up float64
	for _, s := range m.speeds {
		if s.direction == "download" {
			down += s.speed
		} else {
			up += s.speed
		}
	}
	m.Speed.WithLabelValues("download").Set(down)
	m.Speed.WithLabelValues("upload").Set(up)
}

// ObserveActor counts an actor lifecycle event reported by the actor-tree
// registry (kinds are Go package names: bounded).
func (m *Metrics) ObserveActor(kind string, e actortree.Event) {
	switch e {
	case actortree.Spawned:
		m.ActorsSpawned.WithLabelValues(kind).Inc()
		m.Actors.WithLabelValues(kind).Inc()
	case actortree.Restarted:
		m.ActorsRestarted.WithLabelValues(kind).Inc()
	case actortree.Stopped:
		m.ActorsStopped.WithLabelValues(kind).Inc()
		m.Actors.WithLabelValues(kind).Dec()
	}
}

// ObserveDecision counts a supervision decision.
func (m *Metrics) ObserveDecision(d supervision.Decision) {
	decision := "stop"
	if d.Restart {
		decision = "restart"
	}
	m.Decisions.WithLabelValues(d.Class.String(), decision).Inc()
}

// ObserveCommand counts a chat command.
func (m *Metrics) ObserveCommand(cmd, outcome string) {
	m.Commands.WithLabelValues(cmd, outcome).Inc()
}

// ObserveFloodWait counts a 429 and the wait it asked for.
func (m *Metrics) ObserveFloodWait(wait time.Duration) {
	m.FloodWaits.Inc()
	m.FloodWaitSecs.Add(wait.Seconds())
}

// ObserveOutbox counts what the outcome of one outbox call says: a flood
// wait, or a document Telegram may have posted although the call failed.
func (m *Metrics) ObserveOutbox(_ string, err error, _ time.Duration) {
	if wait, ok := tgapi.RetryAfter(err); ok {
		m.ObserveFloodWait(wait)
	}
	if errors.Is(err, tgapi.ErrMaybeDelivered) {
		m.MaybeDuplicated.Inc()
	}
}

// botMethods bounds the method label to the Bot API methods the node uses.
var botMethods = map[string]bool{"getme": true, "getupdates": true, "sendmessage": true, "editmessagetext": true,
	"deletemessage": true, "answercallbackquery": true, "senddocument": true, "getfile": true, "setmycommands": true}

// InstrumentTransport counts every Bot API request by method and result
// code. The method is the last path segment of the request URL (the token,
// which precedes it, is never looked at); file downloads count as "file".
func (m *Metrics) InstrumentTransport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		method := "other"
		p := r.URL.Path
		if strings.Contains(p, "/file/bot") {
			method = "file"
		} else if i := strings.LastIndexByte(p, '/'); i >= 0 && botMethods[strings.ToLower(p[i+1:])] {
			method = strings.ToLower(p[i+1:])
		}
		resp, err := next.RoundTrip(r)
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		m.TelegramCalls.WithLabelValues(method, code).Inc()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// InstrumentStore counts the failed operations of st.
func (m *Metrics) InstrumentStore(st store.Store) store.Store {
	return &countingStore{Store: st, m: m}
}

type countingStore struct {
	store.Store
	m *Metrics
}

func (c *countingStore) count(op string, err error) error {
	if err != nil {
		c.m.StoreErrors.WithLabelValues(op).Inc()
	}
	return err
}

func (c *countingStore) AuthorizedChats(ctx context.Context) ([]int64, error) {
	ids, err := c.Store.AuthorizedChats(ctx)
	return ids, c.count("authorized_chats", err)
}

func (c *countingStore) SetAuthorized(ctx context.Context, id int64, on bool) error {
	return c.count("set_authorized", c.Store.SetAuthorized(ctx, id, on))
}

func (c *countingStore) Ping(ctx context.Context) error { return c.count("ping", c.Store.Ping(ctx)) }

func (c *countingStore) PutTask(ctx context.Context, t store.Task) error {
	return c.count("put_task", c.Store.PutTask(ctx, t))
}

func (c *countingStore) GetTask(ctx context.Context, id string) (store.Task, error) {
	t, err := c.Store.GetTask(ctx, id)
	if err != nil && !isNotFound(err) {
		c.count("get_task", err)
	}
	return t, err
}

func (c *countingStore) UpdateTask(ctx context.Context, id string, fn func(*store.Task) error) (store.Task, error) {
	t, err := c.Store.UpdateTask(ctx, id, fn)
	if err != nil && !isNotFound(err) {
		c.count("update_task", err)
	}
	return t, err
}

func (c *countingStore) Tasks(ctx context.Context, f store.Filter) ([]store.Task, error) {
	ts, err := c.Store.Tasks(ctx, f)
	return ts, c.count("tasks", err)
}

func (c *countingStore) DeleteTasks(ctx context.Context, ids ...string) error {
	return c.count("delete_tasks", c.Store.DeleteTasks(ctx, ids...))
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// Command mirrorleech runs one node of the mirrorleech Telegram bot.
//
// main is wiring only, in the order the design fixes: configuration → logger
// → metrics registry → engines → actor system → signals and HTTP health
// endpoints → store (waiting for Redis if need be) → cluster → top-level
// actors → API. Bad configuration exits with status 2 after listing every
// problem; any other start-up failure exits with status 1; SIGTERM at any
// point after the endpoints are up exits cleanly.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pacluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mirrorleech/mirrorleech/actors/archive"
	"github.com/mirrorleech/mirrorleech/actors/chat"
	"github.com/mirrorleech/mirrorleech/actors/cron"
	"github.com/mirrorleech/mirrorleech/actors/download"
	"github.com/mirrorleech/mirrorleech/actors/gateway"
	"github.com/mirrorleech/mirrorleech/actors/outbox"
	"github.com/mirrorleech/mirrorleech/actors/session"
	"github.com/mirrorleech/mirrorleech/actors/slots"
	"github.com/mirrorleech/mirrorleech/actors/sweeper"
	"github.com/mirrorleech/mirrorleech/actors/task"
	"github.com/mirrorleech/mirrorleech/actors/torrents"
	"github.com/mirrorleech/mirrorleech/actors/upload"
	"github.com/mirrorleech/mirrorleech/cluster/bootstrap"
	"github.com/mirrorleech/mirrorleech/cluster/grains"
	"github.com/mirrorleech/mirrorleech/internal/config"
	"github.com/mirrorleech/mirrorleech/internal/httpdl"
	"github.com/mirrorleech/mirrorleech/internal/logging"
	"github.com/mirrorleech/mirrorleech/internal/netguard"
	"github.com/mirrorleech/mirrorleech/internal/sysstat"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/monitoring"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
	"github.com/mirrorleech/mirrorleech/supervision"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const (
	// telegramCheckTTL is how long a Bot API readiness probe's answer is
	// reused, so that frequent probes of /readyz and /health do not each
	// reach Telegram.
	telegramCheckTTL = 30 * time.Second
	// httpReadHeaderTimeout bounds how long a client may take to send its
	// request headers.
	httpReadHeaderTimeout = 10 * time.Second
)

func main() {
	// `mirrorleech healthcheck` is the container health probe: images
	// built FROM scratch have no curl.
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		os.Exit(healthcheck(os.Getenv("HTTP_ADDR")))
	}
	// The torrent library reads its file I/O mode in an init function, so
	// the mode is set by re-executing before anything else runs.
	if err := torrent.EnsureClassicFileIO(); err != nil {
		fmt.Fprintln(os.Stderr, "mirrorleech:", err)
		os.Exit(1)
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mirrorleech: invalid configuration:")
		for _, e := range unjoin(err) {
			fmt.Fprintln(os.Stderr, "  -", e)
		}
		os.Exit(2)
	}
	log := logging.New(os.Stderr, cfg.LogLevel, cfg.LogFormat, cfg.BotToken, cfg.APIToken)
	if err := run(cfg, log); err != nil {
		log.Error("mirrorleech stopped", slog.Any("err", err))
		os.Exit(1)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func run(cfg *config.Config, log *slog.Logger) error {
	started := time.Now()
	log = log.With(slog.String("node", cfg.NodeName))
	log.Info("starting mirrorleech", slog.String("version", version), slog.Any("config", cfg.Redacted()))
	for _, dir := range []string{cfg.DownloadDir, cfg.StateDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	if cfg.MirrorDest != "" {
		if err := os.MkdirAll(cfg.MirrorDest, 0o755); err != nil {
			return fmt.Errorf("creating MIRROR_DEST %s: %w", cfg.MirrorDest, err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := monitoring.NewMetrics(reg, version)
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}

	tg, err := tgapi.New(tgapi.Options{Token: cfg.BotToken, APIURL: cfg.TelegramAPIURL, Local: cfg.TelegramLocal,
		Transport: metrics.InstrumentTransport(tgapi.DefaultTransport()),
		Logger:    log.With(slog.String("component", "tgapi"))})
	if err != nil {
		return fmt.Errorf("creating the telegram client: %w", err)
	}
	guard := netguard.New(cfg.AllowPrivateURLs)
	guarded := &http.Client{Transport: guard.Transport(), CheckRedirect: guard.CheckRedirect}
	dl := httpdl.New(httpdl.Options{
		Connections: cfg.HTTPConnections,
		Client:      guarded,
		UserAgent:   "mirrorleech/" + version,
		Logger:      log.With(slog.String("component", "httpdl")),
		MinFreeDisk: cfg.MinFreeDisk,
	})

	tc, err := torrent.New(torrent.Config{ListenPort: cfg.TorrentPort, NoDHT: !cfg.TorrentDHT,
		DisableTrackers: !cfg.TorrentTrackers, DisablePEX: !cfg.TorrentPEX,
		DownloadRateLimit: cfg.TorrentDownloadLimit, UploadRateLimit: cfg.TorrentUploadLimit,
		DialContext: guard.DialContext,
		LookupTrackerIP: func(u *url.URL) ([]net.IP, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			return guard.LookupIP(ctx, u.Hostname())
		},
		CheckPeer:   guard.CheckAddr,
		PeerRefused: func(source string) { metrics.PeersRefused.WithLabelValues(source).Inc() },
		Logger:      log.With(slog.String("component", "torrent"))})
	if err != nil {
		return fmt.Errorf("starting the torrent client on TORRENT_PORT %d: %w", cfg.TorrentPort, err)
	}

	// protoactor's own OTel metrics stay off (no MetricsProvider): left on
	// without a global provider they leak per spawned actor; the node's
	// metrics come from its own hooks instead.
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return logging.AtLeast(log.With(slog.String("lib", "protoactor")), slog.LevelWarn)
	}))
	// The actor tree registry sees every spawn (top-level actors, grains and
	// their children), so it must be installed before anything is spawned.
	tree := actortree.New(actortree.Options{Node: cfg.NodeName, Logger: log, Observe: metrics.ObserveActor})
	sys.Root.WithSpawnMiddleware(tree.SpawnMiddleware())

	// The HTTP endpoints answer from here on: while the node waits for
	// Redis or starts its actors, /healthz says it is alive and /readyz and
	// /health say what it waits for.
	stop, stopCause := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stopCause()
	var (
		phase  atomic.Pointer[string]
		opened atomic.Pointer[backend]
	)
	setPhase := func(s string) { phase.Store(&s) }
	setPhase("the node is starting")
	mux := monitoring.New(monitoring.Options{Addr: cfg.HTTPAddr, APIToken: cfg.APIToken, Registry: reg, Logger: log,
		Node: cfg.NodeName, Version: version, Started: started, DiskDir: cfg.DownloadDir,
		Checks: []monitoring.Check{
			{Name: "startup", Fn: func(context.Context) error {
				if p := phase.Load(); p != nil {
					return errors.New(*p)
				}
				return nil
			}},
			{Name: "store", Fn: func(ctx context.Context) error {
				b := opened.Load()
				if b == nil {
					return errors.New("the store is not open yet")
				}
				return b.store.Ping(ctx)
			}},
			{Name: "cluster", Fn: func(context.Context) error {
				if b := opened.Load(); b == nil || !b.ready() {
					return errors.New("this node is not in the cluster's member list yet")
				}
				return nil
			}},
			{Name: "disk", Fn: func(context.Context) error {
				free, _, err := sysstat.DiskFree(cfg.DownloadDir)
				if err == nil && free == 0 {
					err = errors.New("no free space in DOWNLOAD_DIR")
				}
				return err
			}},
			{Name: "telegram", Fn: monitoring.Cached(telegramCheckTTL, func(ctx context.Context) error {
				_, err := tg.GetMe(ctx)
				return err
			})},
		}})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listening on HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: httpReadHeaderTimeout}
	serving := make(chan struct{})
	go func() {
		defer close(serving)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", slog.Any("err", err))
		}
	}()
	// On every return: stop serving and wait for the server's goroutine.
	// The orderly shutdown below has already drained it by then.
	defer func() { _ = srv.Close(); <-serving }()

	if cfg.RedisURL != "" {
		setPhase("connecting to Redis")
	}
	be, err := openBackend(stop, cfg, log, sys, func(attempt int, err error) {
		setPhase(fmt.Sprintf("waiting for Redis: attempt %d failed: %v", attempt, err))
	})
	if err != nil {
		if stop.Err() != nil {
			log.Info("stopped while waiting for Redis", slog.Any("signal", context.Cause(stop)))
			return nil
		}
		return err
	}
	defer be.close()
	be.store = metrics.InstrumentStore(be.store)
	st := be.store
	opened.Store(be)
	setPhase("the node is starting")
	authorized, err := st.AuthorizedChats(context.Background())
	if err != nil {
		return fmt.Errorf("reading the authorized chats: %w", err)
	}
	authorized = append(authorized, cfg.AuthorizedChats...)
	// Claim releases of sessions that stop; a leaving node waits for them.
	var releases sync.WaitGroup
	metricsSub := metrics.Subscribe(sys)
	defer sys.EventStream.Unsubscribe(metricsSub)
	tasks, tasksSub := monitoring.NewTaskView(sys)
	defer sys.EventStream.Unsubscribe(tasksSub)
	policy := supervision.Policy{MaxAttempts: cfg.RetryMaxAttempts, InitialDelay: cfg.RetryInitialDelay,
		MaxDelay: cfg.RetryMaxDelay, MaxElapsed: cfg.RetryMaxElapsed}
	taskOpts := task.Options{
		Node:    cfg.NodeName,
		Store:   st,
		Policy:  policy,
		Observe: metrics.ObserveDecision,
		Download: download.Options{Logger: log, MaxSize: cfg.MaxTaskSize, Engines: map[string]download.Engine{
			"http":     &download.HTTP{Guard: guard, Downloader: dl},
			"telegram": &download.Telegram{Client: tg},
			"torrent": &download.Torrent{Client: tc, Guard: guard, Telegram: tg, HTTP: guarded,
				StallTimeout: cfg.TorrentStallTimeout},
		}},
		Archive: func(spec messages.TaskSpec, in messages.DownloadFinished, dir string) *actor.Props {
			return archive.Props(archive.Options{Logger: log, MaxExtract: cfg.MaxExtractSize, MaxTaskSize: cfg.MaxTaskSize},
				archive.Job{Spec: spec, Input: in, Dir: dir})
		},
		Upload: upload.Options{Logger: log},
		Retain: tc.Retain,
		Owner:  sys.ID,
		Logger: log,
	}
	kinds := []*pacluster.Kind{
		session.Kind(session.Options{DownloadDir: cfg.DownloadDir, Node: cfg.NodeName, Store: st,
			UserTaskLimit: cfg.UserTaskLimit, Task: taskOpts, Logger: log,
			Owner: sys.ID, Alive: be.alive, Releases: &releases,
			OnActive: func(d int) { metrics.Sessions.Add(float64(d)) }}),
		chat.Kind(chat.Options{Interval: cfg.StatusInterval, Logger: log}),
	}
	guardian := actor.WithGuardian(actor.NewOneForOneStrategy(10, time.Minute, actor.DefaultDecider))
	spawn := func(p *actor.Props, name string) (*actor.PID, error) {
		pid, err := sys.Root.SpawnNamed(p.Configure(guardian), name)
		if err != nil {
			return nil, fmt.Errorf("spawning %s: %w", name, err)
		}
		return pid, nil
	}
	maxDownload := int64(20 << 20)
	if cfg.TelegramLocal {
		maxDownload = 0
	}
	var polling atomic.Bool
	actors := []struct {
		name  string
		props *actor.Props
	}{
		{messages.OutboxName, outbox.Props(outbox.Options{Sender: tg, Logger: log.With(slog.String("actor", "outbox")),
			Shared:  be.gate,
			OnQueue: func(n int) { metrics.OutboxQueue.Set(float64(n)) },
			Observe: metrics.ObserveOutbox})},
		{messages.CronName, cron.Props(cron.Options{Node: cfg.NodeName, DownloadDir: cfg.DownloadDir, Started: started,
			Version: version, Logger: log, Store: st, OwnerID: cfg.OwnerID, Notices: be.notices,
			CleanupSchedule: cfg.CleanupSchedule, Retention: cfg.TaskRetention,
			HealthInterval: cfg.HealthInterval, MinFreeDisk: cfg.MinFreeDisk,
			InUse:    tc.Holds,
			Telegram: func(ctx context.Context) error { _, err := tg.GetMe(ctx); return err },
			OnSample: func(s sysstat.Stats) { metrics.DiskFree.Set(float64(s.DiskFree)) }})},
		{messages.TorrentsName, torrents.Props(tc, log.With(slog.String("actor", "torrents")))},
		{messages.SlotsName, slots.Props(slots.Options{MaxDownloads: cfg.MaxConcurrentDownloads,
			MaxUploads: cfg.MaxConcurrentUploads, MinFreeDisk: cfg.MinFreeDisk, Dir: cfg.DownloadDir,
			Logger: log.With(slog.String("actor", "slots"))})},
	}
	// The node's own actors run before it joins the cluster: the moment it
	// is a member, sessions are placed here and their tasks ask for slots,
	// the outbox and the torrent client, which must be there to answer.
	var top []*actor.PID
	for _, a := range actors {
		pid, err := spawn(a.props, a.name)
		if err != nil {
			return err
		}
		top = append(top, pid)
	}
	c, err := bootstrap.Start(sys, bootstrap.Options{Name: "mirrorleech", ListenAddr: cfg.ClusterAddr,
		AdvertiseAddr: cfg.ClusterAdvertise, Provider: be.provider, Kinds: kinds})
	if err != nil {
		return err
	}
	actors = []struct {
		name  string
		props *actor.Props
	}{
		{messages.GrainsName, grains.Props(c, log)},
		{messages.GatewayName, gateway.Props(gateway.Options{Client: tg, Store: st, OwnerID: cfg.OwnerID,
			Sudo: cfg.SudoUsers, Authorized: authorized, MirrorDest: cfg.MirrorDest, SplitSize: cfg.LeechSplitSize,
			MaxDownloadFile: maxDownload, RateLimit: cfg.UserRateLimit, Observe: metrics.ObserveCommand,
			Limiter: be.limiter, Lease: be.lease, LeaseTTL: cfg.PollerLeaseTTL, Nodes: be.nodes(sys.ID),
			OnPolling: func(held bool) {
				polling.Store(held)
				metrics.Poller.Set(boolGauge(held))
			},
			Seed:   messages.SeedLimits{Ratio: cfg.TorrentSeedRatio, Time: cfg.TorrentSeedTime},
			Logger: log.With(slog.String("actor", "gateway"))})},
	}
	if be.clustered {
		// Before the gateway, so it stops after it.
		sw := struct {
			name  string
			props *actor.Props
		}{messages.SweeperName, sweeper.Props(sweeper.Options{Store: st, Alive: be.alive, Ready: be.ready,
			Interval: cfg.ClusterSweepInterval, Logger: log.With(slog.String("actor", "sweeper")),
			OnSwept: func(users int) {
				metrics.OrphansResumed.Add(float64(users))
				metrics.ClusterMembers.Set(float64(len(be.members())))
			}})}
		actors = append(actors[:len(actors)-1], sw, actors[len(actors)-1])
	} else {
		metrics.ClusterMembers.Set(1)
	}
	for _, a := range actors {
		pid, err := spawn(a.props, a.name)
		if err != nil {
			return err
		}
		top = append(top, pid)
	}

	members := monitoring.ClusterFunc(be.members)
	api := &monitoring.API{Node: cfg.NodeName, Version: version, Started: started, Tasks: tasks, Cluster: members,
		Polling: polling.Load,
		Engines: []string{"http", "telegram", "torrent"}, Destinations: []string{"telegram", "dir"}}
	api.Register(mux)
	mux.HandleOperator(actortree.Path, actortree.Handler(tree, sys, cfg.NodeName, monitoring.TreePeers{View: members},
		actortree.WithLogger(log)))
	// Every unfinished task of the store comes back: its user's session is
	// activated and reloads it in its recorded stage.
	// In a cluster the sweeper does this for tasks whose node is gone.
	if !be.clustered {
		rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
		if n, err := session.ResumeAll(rctx, st, sys.Root); err != nil {
			log.Error("resuming unfinished tasks", slog.Any("err", err))
		} else if n > 0 {
			log.Info("resuming unfinished tasks", slog.Int("users", n))
		}
		rcancel()
	}
	phase.Store(nil)
	log.Info("mirrorleech is running", slog.String("http", ln.Addr().String()),
		slog.String("cluster", sys.Address()), slog.Duration("startup", time.Since(started)))

	<-stop.Done()
	log.Info("shutting down", slog.Any("signal", context.Cause(stop)))
	stopCause() // a second signal kills the process the default way

	stopping := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Stop taking work first (the gateway is last in top), then the grains
	// and their tasks, then the node's own actors.
	for i := len(top) - 1; i >= 0; i-- {
		if err := sys.Root.PoisonFuture(top[i]).Wait(); err != nil {
			log.Warn("stopping actor", slog.String("actor", top[i].Id), slog.Any("err", err))
		}
		if i == len(top)-1 {
			// Polling has stopped. Leave the member list first: the other
			// members take this node's users, and the cluster shutdown
			// stops the sessions here, which release their tasks.
			if be.leave != nil {
				if err := be.leave(ctx); err != nil {
					log.Warn("leaving the cluster", slog.Any("err", err))
				}
			}
			bootstrap.Stop(ctx, c, true, log)
			waitGroup(ctx, &releases)
		}
	}
	_ = srv.Shutdown(ctx)
	log.Info("stopped", slog.Duration("shutdown", time.Since(stopping)))
	return nil
}

// healthcheck asks this node's /healthz (HTTP_ADDR, default
// 127.0.0.1:8080; an address on every interface is asked on loopback) and
// returns the exit status: 0 when it answers 200.
func healthcheck(addr string) int {
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck: HTTP_ADDR:", err)
		return 1
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck:", resp.Status)
		return 1
	}
	return 0
}

// waitGroup waits for wg, or until ctx ends.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

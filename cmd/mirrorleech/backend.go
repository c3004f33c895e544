package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pacluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/cenkalti/backoff/v4"
	"github.com/redis/go-redis/v9"

	"github.com/mirrorleech/mirrorleech/actors/gateway"
	"github.com/mirrorleech/mirrorleech/actors/outbox"
	"github.com/mirrorleech/mirrorleech/cluster/localprovider"
	"github.com/mirrorleech/mirrorleech/cluster/redisprovider"
	"github.com/mirrorleech/mirrorleech/internal/config"
	"github.com/mirrorleech/mirrorleech/internal/flood"
	"github.com/mirrorleech/mirrorleech/internal/lease"
	"github.com/mirrorleech/mirrorleech/internal/notice"
	"github.com/mirrorleech/mirrorleech/internal/ratelimit"
	"github.com/mirrorleech/mirrorleech/internal/store"
	"github.com/mirrorleech/mirrorleech/monitoring"
)

// keyPrefix starts every Redis key of mirrorleech.
const keyPrefix = "mirrorleech"

// Redis client timeouts: short everywhere, so that a dead Redis shows as
// errors within seconds (the lease holder stops polling, the sweeper skips
// a round), never as a node that hangs.
const (
	redisDialTimeout = 2 * time.Second
	redisIOTimeout   = 2 * time.Second
	redisPoolTimeout = 3 * time.Second
)

// Connecting at start: a Redis that is still starting (compose starts
// everything at once; a host reboots) is waited for with exponential
// backoff until it answers or the node is told to stop, so the node never
// exits or crash-loops over it. Only an answer that refuses this node
// (wrong password, missing permission) ends the wait.
const (
	// redisConnectTimeout bounds one connection attempt.
	redisConnectTimeout = 10 * time.Second
	// redisRetryInitial is the delay after the first failed attempt.
	redisRetryInitial = 500 * time.Millisecond
	// redisRetryMax caps the delay between two attempts.
	redisRetryMax = 15 * time.Second
)

// backend is what differs between a node alone and a node of a cluster:
// where state lives, how members are found, who polls Telegram and how
// commands are counted. Everything above it is the same code.
type backend struct {
	clustered bool
	store     store.Store
	provider  pacluster.ClusterProvider
	lease     lease.Lease
	limiter   ratelimit.Limiter
	// gate is the cluster-wide flood limiter (nil alone: the outbox's own
	// limiter is the whole bot's).
	gate outbox.Gate
	// members lists the members as this node last saw them.
	members func() []monitoring.Member
	alive   func(id string) bool
	// ready is true once the member view includes this node.
	ready func() bool
	// leave deregisters this node ahead of the cluster shutdown, so its
	// users' sessions move to the other members (nil alone).
	leave func(ctx context.Context) error
	// notices picks the one node that tells the owner about a health
	// problem (nil alone: the node itself).
	notices *notice.Dedup
	close   func()
}

// openBackend connects to Redis when REDIS_URL is set, else opens the
// embedded store in STATE_DIR. It waits for Redis as connectRedis does;
// waiting reports each failed attempt; ctx ends the wait (the error is then
// ctx's).
func openBackend(ctx context.Context, cfg *config.Config, log *slog.Logger, sys *actor.ActorSystem,
	waiting func(attempt int, err error)) (*backend, error) {
	if cfg.RedisURL == "" {
		bolt, err := store.OpenBolt(cfg.StateDir)
		if err != nil {
			return nil, err
		}
		p := localprovider.New()
		return &backend{store: bolt, provider: p, lease: lease.NewLocal(), limiter: ratelimit.NewMemory(),
			members: func() []monitoring.Member {
				return []monitoring.Member{{ID: sys.ID, Name: cfg.NodeName, Address: sys.Address()}}
			},
			alive: p.Alive, ready: func() bool { return true }, close: func() { _ = bolt.Close() }}, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		// The URL may hold a password: the error is not quoted.
		return nil, fmt.Errorf("REDIS_URL cannot be used by the Redis client")
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = redisDialTimeout, redisIOTimeout, redisIOTimeout, redisPoolTimeout
	opt.ContextTimeoutEnabled = true
	// go-redis prints every failed dial during an outage; the callers
	// already log what failed, so its own lines go to debug.
	redis.SetLogger(redisLogger{log.With(slog.String("component", "go-redis"))})
	rc := redis.NewClient(opt)
	rs, err := connectRedis(ctx, rc, log, waiting)
	if err != nil {
		_ = rc.Close()
		return nil, fmt.Errorf("connecting to Redis at %s: %w", redactedURL(cfg.RedisURL), err)
	}
	p := redisprovider.New(redisprovider.Config{Client: rc, Prefix: keyPrefix, TTL: cfg.ClusterMemberTTL,
		Name: cfg.NodeName, API: apiURL(cfg), Logger: log,
		OnRegistrationLost: func(id string) {
			log.Warn("cluster registration lost; registering again", slog.String("member", id))
		}})
	b := &backend{clustered: true, store: rs, provider: p,
		lease:   lease.NewRedis(rc, keyPrefix, "poller", cfg.NodeName, cfg.PollerLeaseTTL),
		limiter: ratelimit.NewRedis(rc, keyPrefix),
		gate:    flood.NewShared(rc, keyPrefix, cfg.NodeName, flood.Config{}),
		alive:   p.Alive,
		leave:   p.Leave,
		notices: notice.New(notice.Options{Client: rc, Prefix: keyPrefix, Node: cfg.NodeName,
			TTL: noticeClaimPeriods * cfg.HealthInterval, Logger: log,
			Fallback: func() bool { return firstMember(p.Self(), p.Members()) }}),
		close: func() { _ = rc.Close() },
	}
	b.members = func() []monitoring.Member {
		self := p.Self()
		ms := p.Members()
		out := make([]monitoring.Member, 0, len(ms))
		for _, m := range ms {
			mm := monitoring.Member{ID: m.ID, Name: m.Name, Address: net.JoinHostPort(m.Host, fmt.Sprint(m.Port)), API: m.API}
			if m.ID == self {
				mm.API = "" // this node answers for itself
			}
			out = append(out, mm)
		}
		return out
	}
	b.ready = func() bool {
		self := p.Self()
		return self != "" && p.Alive(self)
	}
	return b, nil
}

// connectRedis opens the store on rc, retrying with exponential backoff
// (redisRetryInitial up to redisRetryMax, no overall limit) while Redis does
// not answer. Each failed attempt is logged once, with the delay before the
// next, and reported to waiting; success after a wait is logged once too.
func connectRedis(ctx context.Context, rc *redis.Client, log *slog.Logger,
	waiting func(attempt int, err error)) (*store.Redis, error) {
	policy := backoff.NewExponentialBackOff(backoff.WithInitialInterval(redisRetryInitial),
		backoff.WithMaxInterval(redisRetryMax), backoff.WithMaxElapsedTime(0))
	var (
		rs      *store.Redis
		attempt int
		started = time.Now()
	)
	open := func() error {
		attempt++
		actx, cancel := context.WithTimeout(ctx, redisConnectTimeout)
		defer cancel()
		r, err := store.OpenRedis(actx, rc, keyPrefix)
		if err != nil {
			if redis.IsAuthError(err) || redis.IsPermissionError(err) {
				return backoff.Permanent(err)
			}
			return err
		}
		rs = r
		return nil
	}
	failed := func(err error, next time.Duration) {
		log.Warn("Redis does not answer yet; waiting for it", slog.Int("attempt", attempt),
			slog.Duration("next_attempt_in", next), slog.Any("err", err))
		if waiting != nil {
			waiting(attempt, err)
		}
	}
	if err := backoff.RetryNotify(open, backoff.WithContext(policy, ctx), failed); err != nil {
		return nil, err
	}
	if attempt > 1 {
		log.Info("connected to Redis", slog.Int("attempts", attempt), slog.Duration("waited", time.Since(started)))
	}
	return rs, nil
}

// noticeClaimPeriods is how many health intervals a health notice claim
// outlives its last renewal (see internal/notice).
const noticeClaimPeriods = 3

// firstMember reports whether self has the smallest id of the members this
// node last saw. While Redis does not answer, every node keeps its last
// member view, so they agree on one node to tell the owner; a node not yet
// registered counts as first, since a duplicate notice beats none.
func firstMember(self string, members []redisprovider.Member) bool {
	if self == "" {
		return true
	}
	for _, m := range members {
		if m.ID < self {
			return false
		}
	}
	return true
}

// nodes lists the members for /nodes.
func (b *backend) nodes(selfID string) func() []gateway.Node {
	return func() []gateway.Node {
		var out []gateway.Node
		for _, m := range b.members() {
			out = append(out, gateway.Node{Name: m.Name, Address: m.Address, Self: m.ID == selfID})
		}
		return out
	}
}

// apiURL is the base URL other nodes use for this node's HTTP endpoints:
// HTTP_ADDR, with the advertised cluster host when it binds every address.
func apiURL(cfg *config.Config) string {
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ah, _, err := net.SplitHostPort(cfg.ClusterAdvertise); err == nil {
			host = ah
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "REDIS_URL"
}

// redisLogger sends go-redis's own messages to slog at debug level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}

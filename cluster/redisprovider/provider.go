package redisprovider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
	"github.com/cenkalti/backoff/v4"
	"github.com/redis/go-redis/v9"
)

// ErrUnroutable is returned (wrapped) by StartMember when the node advertises
// an address peers cannot dial.
var ErrUnroutable = errors.New("redisprovider: advertised cluster address is not routable")

// ErrStarted is returned when StartMember/StartClient is called twice or
// after Shutdown.
var ErrStarted = errors.New("redisprovider: provider already started or shut down")

// ErrNoClient is returned by StartMember/StartClient without Config.Client.
var ErrNoClient = errors.New("redisprovider: Config.Client is nil")

// Defaults for Config.
const (
	DefaultPrefix    = "mirrorleech"
	DefaultTTL       = 6 * time.Second
	DefaultPoll      = time.Second
	DefaultOpTimeout = time.Second
)

// errLogEvery bounds how often a Redis outage is logged.
const errLogEvery = 5 * time.Second

// Config configures a Provider. Zero values take the defaults.
type Config struct {
	Client    redis.UniversalClient
	Prefix    string        // key prefix, default "mirrorleech"
	TTL       time.Duration // member key TTL, default 6s
	Heartbeat time.Duration // default TTL/3; clamped to TTL/3 when ≥ TTL
	Poll      time.Duration // full-topology poll period, default 1s
	OpTimeout time.Duration // per Redis call, default 1s
	Name      string        // this node's display name (NODE_NAME), stored in the member record
	API       string        // this node's HTTP base URL, stored in the member record; may be ""
	Logger    *slog.Logger
	// OnRegistrationLost is called (from the provider's goroutine, so it must
	// not block for long) when the node finds its own key gone: Redis lost its
	// data, or the key expired during a pause.
	OnRegistrationLost func(memberID string)
}

// Member is one registered node as read from Redis.
type Member struct {
	ID      string // actor system id
	Name    string
	Host    string
	Port    int
	API     string
	Kinds   []string
	Started time.Time
}

// record is the JSON stored under the member key.
type record struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Host    string    `json:"host"`
	Port    int       `json:"port"`
	API     string    `json:"api"`
	Kinds   []string  `json:"kinds"`
	Started time.Time `json:"started"`
}

func (r record) member() Member {
	return Member{ID: r.ID, Name: r.Name, Host: r.Host, Port: r.Port, API: r.API,
		Kinds: slices.Clone(r.Kinds), Started: r.Started}
}

type leaveReq struct {
	ctx   context.Context
	reply chan error
}

// Provider implements cluster.ClusterProvider over Redis.
type Provider struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	started bool
	shut    bool
	member  bool
	self    string
	c       *cluster.Cluster
	cancel  context.CancelFunc
	done    chan struct{}
	sub     *eventstream.Subscription
	view    []Member
	alive   map[string]bool
	leaveCh chan leaveReq

	left   atomic.Bool  // Leave or graceful Shutdown deregistered this node
	nudges atomic.Int64 // pub/sub messages received (tests)
	// holdUntil (unix nanos): no view is applied before it; atomic so tests
	// can observe it.
	holdUntil atomic.Int64

	// active is the member set protoactor accepted in the last topology it
	// published (the provider's list minus blocked ids); written by the
	// EventStream subscriber, which runs inside UpdateClusterTopology.
	activeMu sync.Mutex
	active   map[string]bool

	// Owned by the run goroutine (and by Start* before it starts).
	keys         keys
	rec          record
	recJSON      string
	needRegister bool
	losses       int
	lastRecs     []record
	failing      bool
	retryAt      time.Time
	lastErrLog   time.Time
	bo           *backoff.ExponentialBackOff
	blockedSeen  bool
}

var _ cluster.ClusterProvider = (*Provider)(nil)

// New returns a provider; nothing touches Redis until StartMember/StartClient.
func New(cfg Config) *Provider {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Heartbeat <= 0 || cfg.Heartbeat >= cfg.TTL {
		cfg.Heartbeat = cfg.TTL / 3
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = DefaultOpTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Provider{
		cfg:     cfg,
		log:     log.With(slog.String("component", "redisprovider")),
		leaveCh: make(chan leaveReq),
		active:  map[string]bool{},
		alive:   map[string]bool{},
	}
}

type keys struct{ prefix, idx, ev string }

func newKeys(prefix, clusterName string) keys {
	base := prefix + ":{" + clusterName + "}:"
	return keys{prefix: base + "m:", idx: base + "idx", ev: base + "ev"}
}

func (k keys) member(id string) string { return k.prefix + id }

// StartMember registers this node (failing fast on a Redis error or an
// unroutable address), applies the first view, then heartbeats, polls and
// listens for nudges in its own goroutine.
func (p *Provider) StartMember(c *cluster.Cluster) error { return p.start(c, true) }

// StartClient watches the membership without registering.
func (p *Provider) StartClient(c *cluster.Cluster) error { return p.start(c, false) }

func (p *Provider) start(c *cluster.Cluster, member bool) error {
	if p.cfg.Client == nil {
		return ErrNoClient
	}
	p.mu.Lock()
	if p.started || p.shut {
		p.mu.Unlock()
		return ErrStarted
	}
	p.started = true
	p.mu.Unlock()

	p.c = c
	p.keys = newKeys(p.cfg.Prefix, c.Config.Name)
	// The back-off cap stays well below the post-loss hold (TTL+Heartbeat),
	// so after an outage every node retries, notices its loss and
	// re-registers before any peer's hold ends.
	first := min(p.cfg.Poll, p.cfg.Heartbeat)
	maxWait := max(first, min(2*max(p.cfg.Poll, p.cfg.Heartbeat), p.cfg.TTL/2))
	p.bo = backoff.NewExponentialBackOff(backoff.WithInitialInterval(first),
		backoff.WithMaxInterval(maxWait), backoff.WithMaxElapsedTime(0))

	if member {
		host, port, err := c.ActorSystem.GetHostPort()
		if err != nil {
			return fmt.Errorf("redisprovider: reading the node address: %w", err)
		}
		switch host {
		case "", "0.0.0.0", "::", "nonhost":
			return fmt.Errorf("%w: %q (set an advertised host:port)", ErrUnroutable, c.ActorSystem.Address())
		}
		if port <= 0 {
			return fmt.Errorf("%w: %q (no port)", ErrUnroutable, c.ActorSystem.Address())
		}
		kinds := c.GetClusterKinds()
		slices.Sort(kinds)
		p.rec = record{ID: c.ActorSystem.ID, Name: p.cfg.Name, Host: host, Port: port,
			API: p.cfg.API, Kinds: kinds, Started: time.Now().UTC()}
		b, err := json.Marshal(p.rec)
		if err != nil {
			return fmt.Errorf("redisprovider: encoding the member record: %w", err)
		}
		p.recJSON = string(b)
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.OpTimeout)
		err = p.register(ctx)
		cancel()
		if err != nil {
			return fmt.Errorf("redisprovider: registering member %s: %w", p.rec.ID, err)
		}
		p.log.Info("cluster member registered", slog.String("member", p.rec.ID),
			slog.String("name", p.rec.Name), slog.String("addr", c.ActorSystem.Address()))
	}

	sub := c.ActorSystem.EventStream.Subscribe(func(evt any) {
		// Runs inside UpdateClusterTopology under MemberList's lock: copy the
		// event, call nothing on the MemberList.
		if t, ok := evt.(*cluster.ClusterTopology); ok {
			active := make(map[string]bool, len(t.Members))
			for _, m := range t.Members {
				active[m.Id] = true
			}
			p.activeMu.Lock()
			p.active = active
			p.activeMu.Unlock()
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	subCtx, subCancel := context.WithTimeout(ctx, p.cfg.OpTimeout)
	ps := p.cfg.Client.Subscribe(subCtx, p.keys.ev)
	subCancel()

	p.mu.Lock()
	if p.shut {
		// Shutdown ran while we were starting: undo and report.
		p.mu.Unlock()
		cancel()
		_ = ps.Close()
		c.ActorSystem.EventStream.Unsubscribe(sub)
		return ErrStarted
	}
	p.member = member
	if member {
		p.self = p.rec.ID
	}
	p.cancel = cancel
	p.done = make(chan struct{})
	p.sub = sub
	p.mu.Unlock()

	// First view right away, so the node sees itself before StartMember
	// returns; a failure here is retried by the loop.
	p.poll(ctx, true)
	go p.run(ctx, ps, p.done)
	return nil
}

// Shutdown stops the provider; graceful also deregisters (DEL + SREM +
// PUBLISH leave) unless Leave already did. Idempotent. protoactor calls it
// only from cluster.Shutdown(true).
func (p *Provider) Shutdown(graceful bool) error {
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return nil
	}
	p.shut = true
	cancel, done, sub, member := p.cancel, p.done, p.sub, p.member
	p.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-done
	p.c.ActorSystem.EventStream.Unsubscribe(sub)
	if !graceful || !member || p.left.Swap(true) {
		return nil
	}
	ctx, cc := context.WithTimeout(context.Background(), p.cfg.OpTimeout)
	defer cc()
	if err := p.deregister(ctx); err != nil {
		return fmt.Errorf("redisprovider: deregistering member %s: %w", p.rec.ID, err)
	}
	p.log.Info("cluster member deregistered", slog.String("member", p.rec.ID))
	return nil
}

// Leave deregisters now (for a graceful handover before cluster.Shutdown):
// heartbeat stops, the key is deleted, a leave nudge is published, and from
// then on the provider applies views without itself (no re-registration, no
// loss guard), so the disthash placement moves this node's grains away.
// Later Shutdown is a no-op for the registration. Safe to call twice; a
// no-op for a client or before StartMember.
func (p *Provider) Leave(ctx context.Context) error {
	p.mu.Lock()
	member, done := p.member, p.done
	p.mu.Unlock()
	if !member {
		return nil
	}
	req := leaveReq{ctx: ctx, reply: make(chan error, 1)}
	select {
	case p.leaveCh <- req:
	case <-done:
		// The loop has stopped (Shutdown(false)): deregister directly.
		if p.left.Swap(true) {
			return nil
		}
		octx, cancel := context.WithTimeout(ctx, p.cfg.OpTimeout)
		defer cancel()
		if err := p.deregister(octx); err != nil {
			return fmt.Errorf("redisprovider: deregistering member %s: %w", p.rec.ID, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("redisprovider: leaving: %w", ctx.Err())
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("redisprovider: leaving: %w", ctx.Err())
	}
}

// Members returns the last view applied to the member list (a copy, sorted
// by Name then ID); safe from any goroutine.
func (p *Provider) Members() []Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Member, len(p.view))
	for i, m := range p.view {
		m.Kinds = slices.Clone(m.Kinds)
		out[i] = m
	}
	return out
}

// Alive reports whether id is in the last applied view.
func (p *Provider) Alive(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.alive[id]
}

// Self returns this member's id ("" before StartMember, and for a client).
func (p *Provider) Self() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.self
}

// register writes the record and the index entry atomically, then nudges
// peers. The nudge is best effort: peers poll anyway.
func (p *Provider) register(ctx context.Context) error {
	cl := p.cfg.Client
	_, err := cl.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Set(ctx, p.keys.member(p.rec.ID), p.recJSON, p.cfg.TTL)
		pipe.SAdd(ctx, p.keys.idx, p.rec.ID)
		return nil
	})
	if err != nil {
		return err
	}
	_ = cl.Publish(ctx, p.keys.ev, "join:"+p.rec.ID).Err()
	return nil
}

func (p *Provider) deregister(ctx context.Context) error {
	cl := p.cfg.Client
	_, err := cl.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, p.keys.member(p.rec.ID))
		pipe.SRem(ctx, p.keys.idx, p.rec.ID)
		return nil
	})
	if err != nil {
		return err
	}
	_ = cl.Publish(ctx, p.keys.ev, "leave:"+p.rec.ID).Err()
	return nil
}

// pruneScript removes ids from the index only if their key is still absent,
// so a member re-registering between our MGET and the prune keeps its entry.
// KEYS[1] = index, KEYS[2..] = member keys; ARGV = the matching ids.
var pruneScript = redis.NewScript(`
local n = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    n = n + redis.call('SREM', KEYS[1], ARGV[i-1])
  end
end
return n`)

// list reads every live member record; expired ids are pruned from the index.
func (p *Provider) list(ctx context.Context) ([]record, error) {
	cl := p.cfg.Client
	ids, err := cl.SMembers(ctx, p.keys.idx).Result()
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	mkeys := make([]string, len(ids))
	for i, id := range ids {
		mkeys[i] = p.keys.member(id)
	}
	vals, err := cl.MGet(ctx, mkeys...).Result()
	if err != nil {
		return nil, fmt.Errorf("reading member records: %w", err)
	}
	recs := make([]record, 0, len(ids))
	var goneKeys, goneIDs []string
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			goneKeys = append(goneKeys, mkeys[i])
			goneIDs = append(goneIDs, ids[i])
			continue
		}
		var r record
		if err := json.Unmarshal([]byte(s), &r); err != nil || r.ID != ids[i] {
			p.log.Debug("skipping a malformed member record", slog.String("member", ids[i]), slog.Any("err", err))
			continue
		}
		recs = append(recs, r)
	}
	if len(goneIDs) > 0 {
		keys := append([]string{p.keys.idx}, goneKeys...)
		args := make([]any, len(goneIDs))
		for i, id := range goneIDs {
			args[i] = id
		}
		if err := pruneScript.Run(ctx, cl, keys, args...).Err(); err != nil {
			p.log.Debug("pruning expired members failed", slog.Any("err", err))
		}
	}
	return recs, nil
}

package notice

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	// DefaultTTL is how long a claim outlives its last Hold.
	DefaultTTL = 15 * time.Minute
	// DefaultCallTimeout bounds one Redis call.
	DefaultCallTimeout = 3 * time.Second
)

// Options configures a Dedup.
type Options struct {
	// Client is the cluster's Redis; nil for a node alone.
	Client redis.UniversalClient
	// Prefix starts every key; the claims live under PREFIX:notice:.
	Prefix string
	// Node is this node's name, the value of its claims.
	Node string
	// TTL is how long a claim lives after its last Start or Hold. Set it
	// above the caller's check period. Default: DefaultTTL.
	TTL time.Duration
	// CallTimeout bounds one Redis call. Default: DefaultCallTimeout.
	CallTimeout time.Duration
	// Fallback decides whether this node announces a problem when Redis
	// does not answer; nil means it does.
	Fallback func() bool
	Logger   *slog.Logger
}

// Dedup is one node's side of the cluster-wide notice claims.
type Dedup struct {
	o Options

	mu        sync.Mutex
	announced map[string]bool
}

// New returns a Dedup.
func New(o Options) *Dedup {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dedup{o: o, announced: map[string]bool{}}
}

// releaseScript deletes a claim only if this node still holds it.
var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// holdScript extends a claim only if this node still holds it.
var holdScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)

func (d *Dedup) key(problem string) string { return d.o.Prefix + ":notice:" + problem }

// Start reports whether this node announces that problem started: true when
// its claim wins (or, without Redis, always).
func (d *Dedup) Start(ctx context.Context, problem string) bool {
	announce := true
	if d.o.Client != nil {
		ctx, cancel := context.WithTimeout(ctx, d.o.CallTimeout)
		defer cancel()
		ok, err := d.o.Client.SetNX(ctx, d.key(problem), d.o.Node, d.o.TTL).Result()
		switch {
		case err != nil:
			announce = d.o.Fallback == nil || d.o.Fallback()
			d.o.Logger.Warn("notice: cannot claim a problem in Redis; deciding alone",
				slog.String("problem", problem), slog.Bool("announce", announce), slog.Any("err", err))
		default:
			announce = ok
		}
	}
	d.mu.Lock()
	d.announced[problem] = announce
	d.mu.Unlock()
	return announce
}

// Hold keeps this node's claim on a problem that lasts from expiring.
func (d *Dedup) Hold(ctx context.Context, problem string) {
	if d.o.Client == nil || !d.isAnnounced(problem) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.CallTimeout)
	defer cancel()
	err := holdScript.Run(ctx, d.o.Client, []string{d.key(problem)}, d.o.Node, d.o.TTL.Milliseconds()).Err()
	if err != nil {
		d.o.Logger.Debug("notice: extending a claim", slog.String("problem", problem), slog.Any("err", err))
	}
}

// End reports whether this node announces that problem cleared: true when
// it announced the start. It releases this node's claim, so the next
// occurrence is announced again.
func (d *Dedup) End(ctx context.Context, problem string) bool {
	d.mu.Lock()
	announced := d.announced[problem]
	delete(d.announced, problem)
	d.mu.Unlock()
	if announced && d.o.Client != nil {
		ctx, cancel := context.WithTimeout(ctx, d.o.CallTimeout)
		defer cancel()
		if err := releaseScript.Run(ctx, d.o.Client, []string{d.key(problem)}, d.o.Node).Err(); err != nil {
			// The claim then lapses after its TTL.
			d.o.Logger.Warn("notice: releasing a claim", slog.String("problem", problem), slog.Any("err", err))
		}
	}
	return announced
}

func (d *Dedup) isAnnounced(problem string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.announced[problem]
}

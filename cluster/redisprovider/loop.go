package redisprovider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/redis/go-redis/v9"
)

// run owns every Redis call after start: one goroutine, so the loss guard,
// hold and back-off state need no locks and never race a heartbeat.
func (p *Provider) run(ctx context.Context, ps *redis.PubSub, done chan struct{}) {
	defer close(done)
	defer func() { _ = ps.Close() }()

	var hbC <-chan time.Time
	if p.member {
		hb := time.NewTicker(p.cfg.Heartbeat)
		defer hb.Stop()
		hbC = hb.C
	}
	poll := time.NewTicker(p.cfg.Poll)
	defer poll.Stop()
	// With subscriptions: go-redis re-subscribes after a reconnect (Redis
	// restart) and delivers the *Subscription confirmation, which nudges a
	// poll like any join/leave message.
	msgs := ps.ChannelWithSubscriptions()

	for {
		select {
		case <-ctx.Done():
			return
		case <-hbC:
			p.heartbeat(ctx)
		case <-poll.C:
			p.poll(ctx, false)
		case _, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			p.nudges.Add(1)
			p.drain(msgs)
			p.poll(ctx, false)
		case req := <-p.leaveCh:
			p.leave(ctx, req)
		}
	}
}

// drain coalesces a burst of nudges into one poll.
func (p *Provider) drain(msgs <-chan any) {
	for {
		select {
		case _, ok := <-msgs:
			if !ok {
				return
			}
			p.nudges.Add(1)
		default:
			return
		}
	}
}

func (p *Provider) hold() {
	p.holdUntil.Store(time.Now().Add(p.cfg.TTL + p.cfg.Heartbeat).UnixNano())
}

func (p *Provider) holding() bool { return time.Now().UnixNano() < p.holdUntil.Load() }

func (p *Provider) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.cfg.OpTimeout)
}

// gated reports whether Redis calls are backing off after an error.
func (p *Provider) gated() bool {
	return !p.retryAt.IsZero() && time.Now().Before(p.retryAt)
}

func (p *Provider) heartbeat(ctx context.Context) {
	if p.left.Load() || p.gated() {
		return
	}
	if p.needRegister {
		p.reregister(ctx)
		return
	}
	octx, cancel := p.opCtx(ctx)
	err := p.cfg.Client.SetArgs(octx, p.keys.member(p.rec.ID), p.recJSON,
		redis.SetArgs{Mode: "XX", TTL: p.cfg.TTL}).Err()
	cancel()
	switch {
	case errors.Is(err, redis.Nil):
		p.redisOK()
		p.lost(ctx, "heartbeat found the member key gone")
	case err != nil:
		p.redisFailed(ctx, "heartbeat", err)
	default:
		p.redisOK()
	}
}

// lost handles this node's key having vanished: report, re-register, and
// hold views back until every peer has had time to notice its own loss and
// re-register; applying a view without them would block them forever.
func (p *Provider) lost(ctx context.Context, reason string) {
	p.losses++
	p.needRegister = true
	p.hold()
	p.log.Warn("cluster registration lost", slog.String("member", p.rec.ID),
		slog.String("reason", reason), slog.Int("losses", p.losses))
	if p.cfg.OnRegistrationLost != nil {
		p.cfg.OnRegistrationLost(p.rec.ID)
	}
	p.reregister(ctx)
}

func (p *Provider) reregister(ctx context.Context) {
	octx, cancel := p.opCtx(ctx)
	err := p.register(octx)
	cancel()
	if err != nil {
		p.redisFailed(ctx, "re-registering", err)
		return
	}
	p.redisOK()
	p.needRegister = false
	p.hold()
	p.log.Info("cluster member re-registered", slog.String("member", p.rec.ID),
		slog.Duration("hold", p.cfg.TTL+p.cfg.Heartbeat))
}

// poll reads the full listing and applies it; force skips the back-off gate
// (first poll, Leave). It reports whether a view was applied.
func (p *Provider) poll(ctx context.Context, force bool) bool {
	if !force && p.gated() {
		return false
	}
	octx, cancel := p.opCtx(ctx)
	recs, err := p.list(octx)
	cancel()
	if err != nil {
		p.redisFailed(ctx, "poll", err)
		return false
	}
	p.redisOK()
	p.lastRecs = recs
	left := p.left.Load()
	if p.member && !left {
		if p.needRegister {
			p.reregister(ctx)
			return false
		}
		if !slices.ContainsFunc(recs, func(r record) bool { return r.ID == p.rec.ID }) {
			p.lost(ctx, "member listing lacks this node")
			return false
		}
	}
	if p.holding() {
		return false
	}
	if left {
		recs = withoutID(recs, p.rec.ID)
	}
	p.apply(recs)
	return true
}

func withoutID(recs []record, id string) []record {
	return slices.DeleteFunc(slices.Clone(recs), func(r record) bool { return r.ID == id })
}

// apply publishes the full list to protoactor (every poll: blocked members
// are dropped only there) and snapshots what protoactor accepted.
func (p *Provider) apply(recs []record) {
	ms := make([]*cluster.Member, 0, len(recs))
	for _, r := range recs {
		ms = append(ms, &cluster.Member{Id: r.ID, Host: r.Host, Port: int32(r.Port), Kinds: slices.Clone(r.Kinds)})
	}
	p.c.MemberList.UpdateClusterTopology(ms)

	p.activeMu.Lock()
	active := p.active
	p.activeMu.Unlock()
	view := make([]Member, 0, len(recs))
	alive := make(map[string]bool, len(recs))
	for _, r := range recs {
		if active[r.ID] {
			view = append(view, r.member())
			alive[r.ID] = true
		}
	}
	slices.SortFunc(view, func(a, b Member) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})

	p.mu.Lock()
	changed := len(alive) != len(p.alive)
	for id := range alive {
		if !p.alive[id] {
			changed = true
		}
	}
	p.view, p.alive = view, alive
	p.mu.Unlock()
	if changed {
		p.log.Info("cluster members changed", slog.String("member", p.rec.ID), slog.Int("members", len(view)))
	}
	// A member listed in Redis but refused by protoactor is blocked (gossip
	// or an earlier drop); for this node itself that means peers will not
	// talk to it again until it restarts with a new id.
	if p.member && !p.left.Load() && !active[p.rec.ID] && !p.blockedSeen {
		p.blockedSeen = true
		p.log.Error("cluster member is blocked; restart the node to rejoin", slog.String("member", p.rec.ID))
	}
}

func (p *Provider) leave(ctx context.Context, req leaveReq) {
	if p.left.Swap(true) {
		req.reply <- nil
		return
	}
	octx, cancel := context.WithTimeout(req.ctx, p.cfg.OpTimeout)
	err := p.deregister(octx)
	cancel()
	if err != nil {
		err = fmt.Errorf("redisprovider: deregistering member %s: %w", p.rec.ID, err)
	} else {
		p.log.Info("cluster member left", slog.String("member", p.rec.ID))
	}
	// Move grains away before Leave returns, even if Redis is unreachable:
	// the last listing without this node is the best view available (but
	// never an empty one, which would block every peer).
	if !p.poll(ctx, true) && !p.holding() && len(withoutID(p.lastRecs, p.rec.ID)) > 0 {
		p.apply(withoutID(p.lastRecs, p.rec.ID))
	}
	req.reply <- err
}

func (p *Provider) redisFailed(ctx context.Context, op string, err error) {
	if ctx.Err() != nil {
		return // shutting down
	}
	now := time.Now()
	p.failing = true
	p.retryAt = now.Add(p.bo.NextBackOff())
	if now.Sub(p.lastErrLog) >= errLogEvery {
		p.lastErrLog = now
		p.log.Warn("cluster redis unavailable; keeping the last member view", slog.String("member", p.rec.ID),
			slog.String("op", op), slog.Any("err", err))
	}
}

func (p *Provider) redisOK() {
	if !p.failing {
		return
	}
	p.failing = false
	p.retryAt = time.Time{}
	p.bo.Reset()
	p.log.Info("cluster redis reachable again", slog.String("member", p.rec.ID))
}

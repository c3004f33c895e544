package actortree

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Tree is one node's actors as a forest: Roots are the actors whose parent
// is not registered, and every Actor lists its children's ids.
type Tree struct {
	Node        string    `json:"node"`
	GeneratedAt time.Time `json:"generated_at,omitzero"`
	// Unreachable and Error are set only in cluster views, for a member
	// that did not answer with its tree.
	Unreachable bool     `json:"unreachable,omitempty"`
	Error       string   `json:"error,omitempty"`
	Roots       []string `json:"roots,omitempty"`
	Actors      []Actor  `json:"actors,omitempty"`
}

// Actor is one live actor in a Tree.
type Actor struct {
	ID       string         `json:"id"`
	Kind     string         `json:"kind"`
	Parent   string         `json:"parent,omitempty"`
	Children []string       `json:"children"`
	State    map[string]any `json:"state,omitempty"`
	Restarts int            `json:"restarts"`
	// StartedAt is the spawn time; a restart keeps the PID and does not
	// reset it.
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// Stuck means the actor did not answer Describe in time: it is busy in
	// Receive, blocked, or suspended by its supervisor.
	Stuck bool `json:"stuck"`
}

type probe struct {
	id     string
	future *actor.Future
}

// Snapshot probes every registered actor and returns the node's tree. All
// probes run at once; each waits at most the registry's timeout, shortened
// to ctx's deadline, so a snapshot takes about one timeout however many
// actors are stuck. Actors that stop during the walk are left out, actors
// spawned during it wait for the next snapshot. When ctx leaves no time to
// probe, the tree comes without state and nobody is marked stuck.
func (r *Registry) Snapshot(ctx context.Context, sys *actor.ActorSystem) Tree {
	r.mu.Lock()
	pids := make([]*actor.PID, 0, len(r.actors))
	for _, e := range r.actors {
		pids = append(pids, e.pid)
	}
	r.mu.Unlock()
	walked := make(map[string]bool, len(pids))
	for _, pid := range pids {
		walked[pid.Id] = true
	}

	timeout := r.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	probes := make([]probe, 0, len(pids))
	if timeout > 0 && ctx.Err() == nil {
		for _, pid := range pids {
			probes = append(probes, probe{id: pid.Id, future: sys.Root.RequestFuture(pid, &Describe{}, timeout)})
		}
	}
	// The futures time out on their own clocks, started together, so
	// waiting for them one after the other still ends after one timeout.
	answers := make(map[string]*Description, len(probes))
	for _, p := range probes {
		res, err := p.future.Result()
		if d, ok := res.(*Description); ok && err == nil {
			answers[p.id] = d
		}
	}

	now := r.now()
	t := Tree{Node: r.node, GeneratedAt: now.UTC()}
	r.mu.Lock()
	for id, e := range r.actors {
		if !walked[id] {
			continue // spawned during the walk; the next snapshot has it
		}
		d, answered := answers[id]
		a := Actor{ID: id, Kind: e.kind, Parent: e.parent, Children: []string{}, Restarts: e.restarts,
			StartedAt: e.started.UTC(), UptimeSeconds: now.Sub(e.started).Seconds(),
			Stuck: len(probes) > 0 && !answered}
		if answered {
			a.State = d.State
		}
		t.Actors = append(t.Actors, a)
	}
	r.mu.Unlock()

	slices.SortFunc(t.Actors, func(a, b Actor) int { return cmp.Compare(a.ID, b.ID) })
	index := make(map[string]int, len(t.Actors))
	for i, a := range t.Actors {
		index[a.ID] = i
	}
	for _, a := range t.Actors {
		if p, ok := index[a.Parent]; ok && a.Parent != "" {
			t.Actors[p].Children = append(t.Actors[p].Children, a.ID)
		} else {
			t.Roots = append(t.Roots, a.ID)
		}
	}
	return t
}

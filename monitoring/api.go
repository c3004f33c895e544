package monitoring

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/eventstream"

	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
)

// Member is one node of the cluster as the status API shows it.
type Member struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	// API is the base URL of the member's HTTP endpoints, for cluster-wide
	// views; empty for this node.
	API string `json:"-"`
}

// ClusterView lists the cluster's members.
type ClusterView interface {
	Members() []Member
}

// TaskInfo is one task in /api/v1/tasks.
type TaskInfo struct {
	ID       string  `json:"id"`
	UserID   int64   `json:"user_id"`
	ChatID   int64   `json:"chat_id"`
	Name     string  `json:"name"`
	Kind     string  `json:"kind"`
	Stage    string  `json:"stage"`
	Engine   string  `json:"engine"`
	Done     int64   `json:"done_bytes"`
	Total    int64   `json:"total_bytes"`
	Progress float64 `json:"progress"`
	Speed    float64 `json:"speed_bytes_per_second"`
	QueuePos int     `json:"queue_position,omitempty"`
	Attempt  int     `json:"attempt,omitempty"`
	Node     string  `json:"node"`
	Started  string  `json:"started"`
}

// TaskView keeps the latest snapshot of every task running on the node,
// from the snapshots the tasks publish (the same ones their boards show).
// It is safe for concurrent use.
type TaskView struct {
	mu    sync.Mutex
	tasks map[string]TaskInfo
}

// NewTaskView subscribes a view to sys's event stream.
func NewTaskView(sys *actor.ActorSystem) (*TaskView, *eventstream.Subscription) {
	v := &TaskView{tasks: map[string]TaskInfo{}}
	sub := sys.EventStream.Subscribe(func(evt interface{}) {
		if e, ok := evt.(*messages.TaskSnapshotted); ok {
			v.update(e)
		}
	})
	return v, sub
}

func (v *TaskView) update(e *messages.TaskSnapshotted) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t := e.Task
	if t.Stage.Final() {
		delete(v.tasks, t.TaskID)
		return
	}
	progress := 0.0
	if t.Total > 0 {
		progress = float64(t.Done) / float64(t.Total)
	}
	v.tasks[t.TaskID] = TaskInfo{ID: t.TaskID, UserID: t.UserID, ChatID: e.ChatID, Name: t.Name, Kind: t.Kind.String(),
		Stage: t.Stage.String(), Engine: t.Engine, Done: t.Done, Total: t.Total, Progress: progress, Speed: t.Speed,
		QueuePos: t.QueuePos, Attempt: t.Attempt, Node: t.Node, Started: t.Started.UTC().Format(time.RFC3339)}
}

// Tasks returns the node's tasks, oldest first.
func (v *TaskView) Tasks() []TaskInfo {
	v.mu.Lock()
	out := make([]TaskInfo, 0, len(v.tasks))
	for _, t := range v.tasks {
		out = append(out, t)
	}
	v.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		return out[i].Started < out[j].Started || out[i].Started == out[j].Started && out[i].ID < out[j].ID
	})
	return out
}

// API serves /api/v1/status and /api/v1/tasks.
type API struct {
	Node         string
	Version      string
	Started      time.Time
	Cluster      ClusterView
	Tasks        *TaskView
	Engines      []string
	Destinations []string
	// Polling tells whether this node polls Telegram (holds the poller
	// lease); nil = always.
	Polling func() bool
	// Client fetches other members' views for ?scope=cluster. Default: a
	// client with a 3 s timeout.
	Client *http.Client
}

// Register adds the API's routes behind the operator access rule.
func (a *API) Register(m *Mux) {
	m.HandleOperator("GET /api/v1/status", http.HandlerFunc(a.status))
	m.HandleOperator("GET /api/v1/tasks", http.HandlerFunc(a.tasks))
}

func (a *API) status(w http.ResponseWriter, _ *http.Request) {
	byState := map[string]int{}
	for _, s := range []messages.Stage{messages.StageQueued, messages.StageDownloading, messages.StageArchiving, messages.StageUploading} {
		byState[s.String()] = 0
	}
	for _, t := range a.Tasks.Tasks() {
		byState[t.Stage]++
	}
	members := a.Cluster.Members()
	polling := a.Polling == nil || a.Polling()
	writeJSON(w, http.StatusOK, map[string]any{
		"node":           a.Node,
		"version":        a.Version,
		"uptime_seconds": int64(time.Since(a.Started).Seconds()),
		"cluster":        map[string]any{"members": members, "polling": polling},
		"tasks":          byState,
		"capabilities":   map[string]any{"engines": a.Engines, "destinations": a.Destinations},
	})
}

type nodeTasks struct {
	Node        string     `json:"node"`
	Tasks       []TaskInfo `json:"tasks,omitempty"`
	Unreachable bool       `json:"unreachable,omitempty"`
	Error       string     `json:"error,omitempty"`
}

func (a *API) tasks(w http.ResponseWriter, r *http.Request) {
	local := a.Tasks.Tasks()
	if r.URL.Query().Get("scope") != "cluster" {
		writeJSON(w, http.StatusOK, map[string]any{"node": a.Node, "tasks": local})
		return
	}
	out := []nodeTasks{{Node: a.Node, Tasks: local}}
	client := a.Client
	if client == nil {
		client = &http.Client{Timeout: 3 * time.Second}
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, m := range a.Cluster.Members() {
		if m.API == "" {
			continue // this node
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			nt := fetchTasks(r.Context(), client, m, r.Header.Get("Authorization"))
			mu.Lock()
			out = append(out, nt)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	writeJSON(w, http.StatusOK, map[string]any{"scope": "cluster", "nodes": out})
}

// fetchTasks asks one member for its tasks; a member that does not answer
// is reported as unreachable, never dropped.
func fetchTasks(ctx context.Context, c *http.Client, m Member, auth string) nodeTasks {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.API+"/api/v1/tasks", nil)
	if err != nil {
		return nodeTasks{Node: m.Name, Unreachable: true, Error: err.Error()}
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nodeTasks{Node: m.Name, Unreachable: true, Error: "no answer"}
	}
	defer resp.Body.Close()
	var body struct {
		Tasks []TaskInfo `json:"tasks"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return nodeTasks{Node: m.Name, Unreachable: true, Error: resp.Status}
	}
	return nodeTasks{Node: m.Name, Tasks: body.Tasks}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ClusterFunc adapts a function to ClusterView.
type ClusterFunc func() []Member

// Members implements ClusterView.
func (f ClusterFunc) Members() []Member { return f() }

// LocalCluster is the ClusterView of a node running alone.
type LocalCluster struct {
	Sys  *actor.ActorSystem
	Name string
}

// Members implements ClusterView.
func (l LocalCluster) Members() []Member {
	return []Member{{ID: l.Sys.ID, Name: l.Name, Address: l.Sys.Address()}}
}

// TreePeers adapts a ClusterView to the actor tree's member list.
type TreePeers struct{ View ClusterView }

// Members implements actortree.ClusterPeers.
func (p TreePeers) Members() []actortree.Member {
	ms := p.View.Members()
	out := make([]actortree.Member, len(ms))
	for i, m := range ms {
		out[i] = actortree.Member{ID: m.ID, Name: m.Name, Address: m.Address, API: m.API}
	}
	return out
}

package actortree

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

//go:embed tree.html
var page []byte

// Path is where Handler expects to be mounted, on this node and on peers.
const Path = "/debug/actors"

// DefaultPeerTimeout bounds the fetch of one other member's tree.
const DefaultPeerTimeout = 2 * time.Second

// Member is one node of the cluster.
type Member struct {
	ID   string
	Name string
	// Address is the member's cluster (remote) address; informational.
	Address string
	// API is the base URL of the member's HTTP endpoints
	// ("http://10.0.0.7:8080"); a bare host:port gets "http://". Empty for
	// this node.
	API string
}

// ClusterPeers lists the cluster's members, this node included.
type ClusterPeers interface {
	Members() []Member
}

// ClusterTree is the answer to ?scope=cluster: one Tree per member, sorted
// by node name.
type ClusterTree struct {
	Scope       string    `json:"scope"`
	GeneratedAt time.Time `json:"generated_at"`
	Nodes       []Tree    `json:"nodes"`
}

// HandlerOption adjusts Handler.
type HandlerOption func(*handler)

// WithPeerTimeout bounds the fetch of one other member's tree. Default:
// DefaultPeerTimeout.
func WithPeerTimeout(d time.Duration) HandlerOption {
	return func(h *handler) {
		if d > 0 {
			h.peerTimeout = d
		}
	}
}

// WithHTTPClient sets the client used to fetch other members' trees.
func WithHTTPClient(c *http.Client) HandlerOption {
	return func(h *handler) {
		if c != nil {
			h.client = c
		}
	}
}

// WithLogger receives unreachable members at debug level. Nil discards.
func WithLogger(l *slog.Logger) HandlerOption {
	return func(h *handler) {
		if l != nil {
			h.log = l
		}
	}
}

type handler struct {
	reg         *Registry
	sys         *actor.ActorSystem
	node        string
	cluster     ClusterPeers
	peerTimeout time.Duration
	client      *http.Client
	log         *slog.Logger
}

// Handler serves the tree at Path (mount it with the operator access rule,
// monitoring.Mux.HandleOperator). JSON is the default; the embedded HTML
// page is served when Accept prefers text/html, or with ?format=html
// (?format=json forces JSON). ?scope=cluster answers a ClusterTree; with a
// nil cluster it holds this node only. The Authorization header of the
// request is passed on to the other members, which share API_TOKEN.
func Handler(r *Registry, sys *actor.ActorSystem, node string, cluster ClusterPeers, opts ...HandlerOption) http.Handler {
	h := &handler{reg: r, sys: sys, node: node, cluster: cluster, peerTimeout: DefaultPeerTimeout,
		client: http.DefaultClient, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(h)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "no-store")
	html := false
	switch q.Get("format") {
	case "html":
		html = true
	case "json":
	case "":
		html = prefersHTML(r.Header.Get("Accept"))
	default:
		http.Error(w, "format must be json or html", http.StatusBadRequest)
		return
	}
	scope := q.Get("scope")
	if scope != "" && scope != "node" && scope != "cluster" {
		http.Error(w, "scope must be node or cluster", http.StatusBadRequest)
		return
	}
	if html {
		// The page fetches the JSON itself, with this same URL.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		_, _ = w.Write(page)
		return
	}
	var body any
	if scope == "cluster" {
		body = h.clusterTree(r)
	} else {
		body = h.local(r.Context())
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

func (h *handler) local(ctx context.Context) Tree {
	t := h.reg.Snapshot(ctx, h.sys)
	t.Node = h.node
	return t
}

func (h *handler) clusterTree(r *http.Request) ClusterTree {
	var members []Member
	if h.cluster != nil {
		members = h.cluster.Members()
	}
	out := ClusterTree{Scope: "cluster", GeneratedAt: time.Now().UTC()}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	add := func(t Tree) {
		mu.Lock()
		out.Nodes = append(out.Nodes, t)
		mu.Unlock()
	}
	for _, m := range members {
		if m.Name == h.node || (h.sys != nil && m.ID == h.sys.ID) {
			continue // this node is added below, without HTTP
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			add(h.fetch(r.Context(), m, r.Header.Get("Authorization")))
		}()
	}
	// This node is always listed, whether or not the member list has it yet.
	wg.Add(1)
	go func() {
		defer wg.Done()
		add(h.local(r.Context()))
	}()
	wg.Wait()
	slices.SortFunc(out.Nodes, func(a, b Tree) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// fetch asks one other member for its tree; every way of not getting one
// makes the member unreachable, never absent.
func (h *handler) fetch(ctx context.Context, m Member, auth string) Tree {
	t, err := h.fetchTree(ctx, m, auth)
	if err != nil {
		h.log.Debug("member tree unavailable", slog.String("node", m.Name), slog.Any("err", err))
		return Tree{Node: m.Name, Unreachable: true, Error: err.Error()}
	}
	t.Node = m.Name
	t.Unreachable, t.Error = false, ""
	return t
}

func (h *handler) fetchTree(ctx context.Context, m Member, auth string) (Tree, error) {
	if m.API == "" {
		return Tree{}, fmt.Errorf("no HTTP address known for member %s", m.Name)
	}
	base := m.API
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	ctx, cancel := context.WithTimeout(ctx, h.peerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+Path+"?format=json", nil)
	if err != nil {
		return Tree{}, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return Tree{}, fmt.Errorf("asking the member: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return Tree{}, fmt.Errorf("member answered %s", resp.Status)
	}
	var t Tree
	if err := json.NewDecoder(resp.Body).Decode(&t); err != nil {
		return Tree{}, fmt.Errorf("decoding the member's tree: %w", err)
	}
	return t, nil
}

// prefersHTML reports whether an Accept header ranks text/html above
// application/json. A tie (*/*, or no header) means JSON, so curl and
// scripts get data and browsers, which list text/html first, get the page.
func prefersHTML(accept string) bool {
	return quality(accept, "text", "html") > quality(accept, "application", "json")
}

// quality is the q-value the most specific matching media range of accept
// gives type/sub (RFC 9110 §12.5.1); no header accepts everything at 1.
func quality(accept, typ, sub string) float64 {
	if strings.TrimSpace(accept) == "" {
		return 1
	}
	best, bestSpecificity := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		t, s, _ := strings.Cut(mt, "/")
		specificity := 0
		switch {
		case t == typ && s == sub:
			specificity = 2
		case t == typ && s == "*":
			specificity = 1
		case t == "*" && s == "*":
			specificity = 0
		default:
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
				q = f
			}
		}
		if specificity > bestSpecificity {
			best, bestSpecificity = q, specificity
		}
	}
	return best
}

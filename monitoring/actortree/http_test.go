package actortree_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

type staticPeers []actortree.Member

func (s staticPeers) Members() []actortree.Member { return s }

func get(t *testing.T, url, accept, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(actortree.Path, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPJSONShape(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	spawnChain(t, root, "s1")
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["s1/t1/d1"].Kind != "" })
	srv := serve(t, actortree.Handler(reg, sys, "node-a", nil))

	resp, body := get(t, srv.URL+actortree.Path, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Equal(t, "node-a", doc["node"])
	_, err := time.Parse(time.RFC3339Nano, doc["generated_at"].(string))
	require.NoError(t, err)
	require.Equal(t, []any{"s1"}, doc["roots"])
	actors := doc["actors"].([]any)
	require.Len(t, actors, 3)
	grandchild := actors[2].(map[string]any)
	for _, key := range []string{"id", "kind", "parent", "children", "state", "restarts", "started_at", "uptime_seconds", "stuck"} {
		require.Contains(t, grandchild, key)
	}
	require.Equal(t, "s1/t1/d1", grandchild["id"])
	require.Equal(t, "download", grandchild["kind"])
	require.Equal(t, "s1/t1", grandchild["parent"])
	require.Equal(t, []any{}, grandchild["children"])
	require.Equal(t, map[string]any{"task_id": "T1", "stage": "download", "progress": 0.5}, grandchild["state"])
	require.Equal(t, false, grandchild["stuck"])
	require.Equal(t, 0.0, grandchild["restarts"])
	require.NotContains(t, actors[0].(map[string]any), "parent", "a root has no parent")
}

func TestHTTPNegotiation(t *testing.T) {
	sys, reg, _ := newSystem(t, actortree.DefaultTimeout)
	srv := serve(t, actortree.Handler(reg, sys, "node-a", nil))
	for _, c := range []struct {
		name, query, accept string
		code                int
		html                bool
	}{
		{"no accept", "", "", http.StatusOK, false},
		{"curl", "", "*/*", http.StatusOK, false},
		{"json", "", "application/json", http.StatusOK, false},
		{"browser", "", browserAccept, http.StatusOK, true},
		{"html only", "", "text/html", http.StatusOK, true},
		{"html ranked lower", "", "text/html;q=0.5, application/json", http.StatusOK, false},
		{"text wildcard over json", "", "text/*, application/json;q=0.1", http.StatusOK, true},
		{"format html wins", "?format=html", "application/json", http.StatusOK, true},
		{"format json wins", "?format=json", browserAccept, http.StatusOK, false},
		{"browser cluster", "?scope=cluster", browserAccept, http.StatusOK, true},
		{"bad format", "?format=xml", "", http.StatusBadRequest, false},
		{"bad scope", "?scope=galaxy", "", http.StatusBadRequest, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+actortree.Path+c.query, c.accept, "")
			require.Equal(t, c.code, resp.StatusCode, string(body))
			if c.code != http.StatusOK {
				return
			}
			require.Equal(t, "Accept", resp.Header.Get("Vary"))
			if c.html {
				require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
				require.Contains(t, string(body), `name="viewport"`)
				require.Contains(t, string(body), "data-actor-id")
			} else {
				require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				require.True(t, json.Valid(body))
			}
		})
	}

	resp, err := http.Post(srv.URL+actortree.Path, "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// The page must work offline and inside the binary: no external assets.
func TestHTMLHasNoExternalAssets(t *testing.T) {
	sys, reg, _ := newSystem(t, actortree.DefaultTimeout)
	srv := serve(t, actortree.Handler(reg, sys, "node-a", nil))
	_, body := get(t, srv.URL+actortree.Path, browserAccept, "")
	page := strings.ToLower(string(body))
	for _, bad := range []string{`src="`, `href="`, "@import", "//cdn", "https://", "http://"} {
		require.NotContains(t, page, bad)
	}
	require.NotRegexp(t, `url\(\s*["']?(https?:|//)`, page, "no remote CSS url()")
}

func TestHTTPClusterScopeMergesMembers(t *testing.T) {
	const auth = "Bearer s3cret"
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	spawnChain(t, root, "s1")
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["s1/t1/d1"].Kind != "" })

	// A real peer: its own actor system, registry and handler, behind a
	// token check like the monitoring mux's.
	peerSys, peerReg, peerRoot := newSystem(t, actortree.DefaultTimeout)
	spawnChain(t, peerRoot, "s9")
	eventually(t, peerReg, peerSys, func(m map[string]actortree.Actor) bool { return m["s9/t1/d1"].Kind != "" })
	peerHandler := actortree.Handler(peerReg, peerSys, "its-own-name", nil)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != auth {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("scope") != "" { // peers are asked for their own tree only
			http.Error(w, "asked for more than its own tree", http.StatusBadRequest)
			return
		}
		peerHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(peer.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(slow.Close)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	t.Cleanup(garbage.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())

	members := staticPeers{
		{ID: sys.ID, Name: "node-a"},
		{ID: "p", Name: "node-b", API: peer.URL},
		{ID: "s", Name: "node-c", API: strings.TrimPrefix(slow.URL, "http://")},
		{ID: "d", Name: "node-d", API: dead},
		{ID: "g", Name: "node-e", API: garbage.URL},
		{ID: "n", Name: "node-f"},
	}
	srv := serve(t, actortree.Handler(reg, sys, "node-a", members, actortree.WithPeerTimeout(300*time.Millisecond)))

	start := time.Now()
	resp, body := get(t, srv.URL+actortree.Path+"?scope=cluster", "application/json", auth)
	require.Less(t, time.Since(start), 3*time.Second, "peers are asked concurrently, each bounded")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var ct actortree.ClusterTree
	require.NoError(t, json.Unmarshal(body, &ct))
	require.Equal(t, "cluster", ct.Scope)
	require.Len(t, ct.Nodes, 6)
	names := make([]string, 0, len(ct.Nodes))
	for _, n := range ct.Nodes {
		names = append(names, n.Node)
	}
	require.Equal(t, []string{"node-a", "node-b", "node-c", "node-d", "node-e", "node-f"}, names)

	a, b := ct.Nodes[0], ct.Nodes[1]
	require.False(t, a.Unreachable)
	require.Equal(t, []string{"s1"}, a.Roots)
	require.False(t, b.Unreachable, b.Error)
	require.Equal(t, []string{"s9"}, b.Roots, "the peer's tree, under the member's name")
	require.Len(t, b.Actors, 3)
	for _, n := range ct.Nodes[2:] {
		require.True(t, n.Unreachable, n.Node)
		require.NotEmpty(t, n.Error, n.Node)
		require.Empty(t, n.Actors, n.Node)
	}

	// The unreachable entry is exactly {node, unreachable, error}.
	var raw struct {
		Nodes []map[string]any `json:"nodes"`
	}
	require.NoError(t, json.Unmarshal(body, &raw))
	require.ElementsMatch(t, []string{"node", "unreachable", "error"}, keys(raw.Nodes[2]))

	// Without the token the peer refuses, and says so through its entry.
	_, body = get(t, srv.URL+actortree.Path+"?scope=cluster", "application/json", "")
	require.NoError(t, json.Unmarshal(body, &ct))
	require.True(t, ct.Nodes[1].Unreachable)
	require.Contains(t, ct.Nodes[1].Error, "401")
}

func TestHTTPClusterScopeWithoutClusterIsThisNode(t *testing.T) {
	sys, reg, root := newSystem(t, actortree.DefaultTimeout)
	spawnChain(t, root, "s1")
	srv := serve(t, actortree.Handler(reg, sys, "node-a", nil))
	_, body := get(t, srv.URL+actortree.Path+"?scope=cluster", "", "")
	var ct actortree.ClusterTree
	require.NoError(t, json.Unmarshal(body, &ct))
	require.Len(t, ct.Nodes, 1)
	require.Equal(t, "node-a", ct.Nodes[0].Node)
	require.Equal(t, []string{"s1"}, ct.Nodes[0].Roots)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

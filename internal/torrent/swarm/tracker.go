package swarm

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// Tracker is a minimal HTTP tracker (BEP 3, compact peer lists, BEP 23):
// every announcer of an info hash is handed the others. It keeps no
// statistics beyond the number of announces.
type Tracker struct {
	URL string // the announce URL

	mu        sync.Mutex
	peers     map[string]map[string]bool // info hash -> "ip:port" set
	announces int
}

// NewTracker serves a tracker on 127.0.0.1 until the test ends.
func NewTracker(tb testing.TB) *Tracker {
	tb.Helper()
	tr := &Tracker{peers: map[string]map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/announce", tr.announce)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	tr.URL = srv.URL + "/announce"
	return tr
}

// Announces returns how many announces the tracker answered.
func (tr *Tracker) Announces() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.announces
}

func (tr *Tracker) announce(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ih := q.Get("info_hash")
	port, err := strconv.Atoi(q.Get("port"))
	host, _, herr := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host).To4()
	if len(ih) != 20 || err != nil || port <= 0 || port > 65535 || herr != nil || ip == nil {
		writeBencode(w, map[string]any{"failure reason": "bad announce"})
		return
	}
	self := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	tr.mu.Lock()
	tr.announces++
	set := tr.peers[ih]
	if set == nil {
		set = map[string]bool{}
		tr.peers[ih] = set
	}
	if q.Get("event") == "stopped" {
		delete(set, self)
	} else {
		set[self] = true
	}
	var compact []byte
	for p := range set {
		if p == self {
			continue
		}
		h, ps, _ := net.SplitHostPort(p)
		pn, _ := strconv.Atoi(ps)
		compact = append(compact, net.ParseIP(h).To4()...)
		compact = append(compact, byte(pn>>8), byte(pn))
	}
	tr.mu.Unlock()
	writeBencode(w, map[string]any{"interval": 60, "peers": string(compact)})
}

func writeBencode(w http.ResponseWriter, v any) {
	b, err := bencode.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(b)
}

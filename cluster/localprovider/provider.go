// Package localprovider is a protoactor ClusterProvider for a cluster of one:
// the node publishes itself as the only member and never changes its mind.
// It is what a node runs without REDIS_URL, so the single-node path and the
// clustered path share all code above the provider.
//
// It receives nothing and emits one topology (the node itself) on
// StartMember. It fails only when the actor system has no routable address.
package localprovider

import (
	"fmt"
	"sync"

	"github.com/asynkron/protoactor-go/cluster"
)

// Provider publishes the local node as the only member.
type Provider struct {
	mu   sync.Mutex
	self string
}

var _ cluster.ClusterProvider = (*Provider)(nil)

// New returns a single-member provider.
func New() *Provider { return &Provider{} }

// StartMember publishes the one-member topology. Member.Id must equal the
// actor system's id: gossip and the block list key members by it.
func (p *Provider) StartMember(c *cluster.Cluster) error {
	host, port, err := c.ActorSystem.GetHostPort()
	if err != nil {
		return fmt.Errorf("reading the node address: %w", err)
	}
	p.mu.Lock()
	p.self = c.ActorSystem.ID
	p.mu.Unlock()
	c.MemberList.UpdateClusterTopology([]*cluster.Member{{
		Id:    c.ActorSystem.ID,
		Host:  host,
		Port:  int32(port),
		Kinds: c.GetClusterKinds(),
	}})
	return nil
}

// StartClient is StartMember without hosting kinds.
func (p *Provider) StartClient(c *cluster.Cluster) error { return p.StartMember(c) }

// Shutdown has nothing to deregister.
func (p *Provider) Shutdown(bool) error { return nil }

// Self returns this member's id ("" before StartMember).
func (p *Provider) Self() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.self
}

// Alive reports whether id is this process: alone, no other member lives.
// A task owned by an earlier run of the node is therefore free to resume.
func (p *Provider) Alive(id string) bool { return id != "" && id == p.Self() }

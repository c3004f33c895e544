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

	"github.com/asynkron/protoactor-go/cluster"
)

// Provider publishes the local node as the only member.
type Provider struct{}

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

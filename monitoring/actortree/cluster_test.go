package actortree_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	pacluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/cluster/bootstrap"
	"github.com/mirrorleech/mirrorleech/cluster/localprovider"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture/session"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture/task"
)

// Grains are spawned by the cluster's placement actor, itself spawned with
// sys.Root by the cluster: with the middleware installed before the member
// starts, a grain and its children are in the tree under the placement
// actor.
func TestClusterGrainsAndTheirChildrenAreRegistered(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster member (about a second)")
	}
	sys, reg, _ := newSystem(t, actortree.DefaultTimeout)
	kind := pacluster.NewKind("probe", session.Props(fixture.Node{
		Child: task.Props(fixture.Node{State: map[string]any{"stage": "queued"}}), ChildName: "t",
		State: map[string]any{"user_id": 42},
	}))
	c, err := bootstrap.Start(sys, bootstrap.Options{Name: "actortree-test", ListenAddr: "127.0.0.1:0",
		Provider: localprovider.New(), Kinds: []*pacluster.Kind{kind}})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bootstrap.Stop(ctx, c, false, slog.New(slog.DiscardHandler))
	})

	grain := c.Get("user-42", "probe")
	require.NotNil(t, grain)
	tr := eventually(t, reg, sys, func(m map[string]actortree.Actor) bool {
		return m[grain.Id+"/t"].Kind == "task"
	})
	got := byID(tr)
	g := got[grain.Id]
	require.Equal(t, "session", g.Kind)
	require.Equal(t, map[string]any{"user_id": 42}, g.State)
	require.Equal(t, []string{grain.Id + "/t"}, g.Children)
	placement, ok := got[g.Parent]
	require.True(t, ok, "the grain's parent %q is registered", g.Parent)
	require.True(t, strings.HasPrefix(placement.ID, "partition-activator"), placement.ID)
	require.Equal(t, "disthash", placement.Kind)
	require.Contains(t, placement.Children, grain.Id)
}

package redistest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/redistest"
)

func TestRestartComesBackEmpty(t *testing.T) {
	s := redistest.Start(t)
	c := s.Client()
	ctx := context.Background()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	s.Restart()
	n, err := c.Exists(ctx, "k").Result()
	require.NoError(t, err)
	require.Zero(t, n, "a restarted server has no data")
	s.Stop()
	require.Error(t, c.Ping(ctx).Err())
}

package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBoltAuthorizationPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := OpenBolt(dir)
	require.NoError(t, err)
	require.NoError(t, s.SetAuthorized(ctx, -100123, true))
	require.NoError(t, s.SetAuthorized(ctx, 42, true))
	require.NoError(t, s.SetAuthorized(ctx, 7, true))
	require.NoError(t, s.SetAuthorized(ctx, 7, false))
	require.NoError(t, s.Close())

	s, err = OpenBolt(dir)
	require.NoError(t, err)
	defer s.Close()
	ids, err := s.AuthorizedChats(ctx)
	require.NoError(t, err)
	require.Equal(t, []int64{-100123, 42}, ids)
	require.NoError(t, s.Ping(ctx))
}

func TestBoltSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBolt(dir)
	require.NoError(t, err)
	defer s.Close()
	_, err = OpenBolt(dir)
	require.ErrorIs(t, err, ErrLocked)
}

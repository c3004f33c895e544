package bootstrap

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResolveAdvertise(t *testing.T) {
	require.Equal(t, "10.1.2.3:7000", resolveAdvertise("10.1.2.3:7000"), "an IP stays")
	require.Equal(t, "127.0.0.1:7000", resolveAdvertise("localhost:7000"), "a name becomes its address")
	require.Equal(t, "no-such-host.invalid:7000", resolveAdvertise("no-such-host.invalid:7000"), "an unknown name stays")
}

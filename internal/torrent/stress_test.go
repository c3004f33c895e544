package torrent

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

func TestStressStall(t *testing.T) {
	if os.Getenv("STRESS") == "" {
		t.Skip()
	}
	data := swarm.Random(11, 24<<20)
	for i := 0; i < 30; i++ {
		seeder := swarm.NewSeeder(t, map[string][]byte{"big.bin": data}, swarm.Options{})
		c := newTestClient(t, Config{})
		start := time.Now()
		_, err := c.Download(testContext(t, 20*time.Second), Request{Magnet: seeder.Magnet, Dir: t.TempDir()})
		t.Logf("run %d: %s %v", i, time.Since(start), err)
		require.NoError(t, err)
		require.NoError(t, c.Close())
		seeder.Close()
	}
}

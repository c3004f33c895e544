package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// resolved is the part of `docker-compose config` these tests read.
type resolved struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Profiles    []string          `yaml:"profiles"`
		Restart     string            `yaml:"restart"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Volumes []string `yaml:"volumes"`
	} `yaml:"services"`
}

// docker-compose.yml validates with .env.example filled in as a user
// would, with and without the monitoring profile; only Prometheus and
// Grafana publish ports, on loopback; every long-running service restarts
// and the bot and Redis have health checks.
func TestComposeConfig(t *testing.T) {
	needDocker(t)
	example, err := os.ReadFile(filepath.Join(root, ".env.example"))
	require.NoError(t, err)
	p := newProject(t, nil)
	env := strings.Replace(string(example), "\nBOT_TOKEN=\n", "\nBOT_TOKEN=123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi\n", 1)
	env = strings.Replace(env, "\nOWNER_ID=\n", "\nOWNER_ID=1001\n", 1)
	require.NoError(t, os.WriteFile(filepath.Join(p.dir, ".env"), []byte(env), 0o600))

	p.compose(time.Minute, "config", "-q")
	var plain, monitoring resolved
	require.NoError(t, yaml.Unmarshal([]byte(p.compose(time.Minute, "config")), &plain))
	require.NoError(t, yaml.Unmarshal([]byte(p.compose(time.Minute, "--profile", "monitoring", "config")), &monitoring))

	node := plain.Services["node"]
	require.Equal(t, "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi", node.Environment["BOT_TOKEN"], "the bot's settings come from .env")
	require.Equal(t, "redis://:@redis:6379/0", node.Environment["REDIS_URL"])
	require.Equal(t, "0.0.0.0:7000", node.Environment["CLUSTER_ADDR"])
	require.NotContains(t, node.Environment, "NODE_NAME", "each replica is named after its container")
	require.Equal(t, "mirrorleech:local", node.Image)
	require.Equal(t, "redis:7.2-alpine", plain.Services["redis"].Image)
	require.Contains(t, node.Volumes, "/downloads", "work in progress on a volume per replica")
	for name, svc := range monitoring.Services {
		require.Equal(t, "unless-stopped", svc.Restart, "%s restarts", name)
		switch name {
		case "node", "redis":
			require.Empty(t, svc.Ports, "%s publishes no port to the host", name)
			require.NotNil(t, svc.Healthcheck, "%s has a health check", name)
		case "prometheus", "grafana":
			require.Equal(t, []string{"monitoring"}, svc.Profiles, "%s is opt-in", name)
			require.Len(t, svc.Ports, 1)
			require.True(t, strings.HasPrefix(svc.Ports[0], "127.0.0.1:"), "%s is published on loopback only: %s", name, svc.Ports[0])
		default:
			t.Errorf("unexpected service %s", name)
		}
	}
	require.Equal(t, []string{"CMD", "/mirrorleech", "healthcheck"}, node.Healthcheck.Test)
	require.Len(t, monitoring.Services, 4)
}

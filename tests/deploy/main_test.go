package deploy

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The images every test uses, tagged for this package so that a user's
// mirrorleech:local is never replaced; TestMain removes the tags.
const (
	botImage   = "mirrorleech:deploytest"
	redisImage = "mirrorleech-redis:deploytest"
)

// root is the repository, where the Makefile and docker-compose.yml are.
var root, _ = filepath.Abs("../..")

// dockerState is what TestMain found out about the engine.
var dockerState struct {
	skip     string // why the Docker tests skip ("" when they run)
	imageErr error  // building the images failed
	built    time.Duration
}

func TestMain(m *testing.M) {
	flag.Parse()
	dockerState.skip = dockerMissing()
	if dockerState.skip == "" && !testing.Short() {
		start := time.Now()
		dockerState.imageErr = buildImages("")
		dockerState.built = time.Since(start)
	}
	code := m.Run()
	if dockerState.skip == "" && !testing.Short() {
		_, _ = run(context.Background(), "", "docker", "image", "rm", botImage, redisImage)
	}
	os.Exit(code)
}

// dockerMissing says why the Docker tests cannot run here, or "".
func dockerMissing() string {
	if _, err := exec.LookPath("docker"); err != nil {
		return "no docker command on this machine"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := run(ctx, "", "docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		return "no Docker engine answers `docker info`: " + strings.TrimSpace(out)
	}
	return ""
}

// needDocker skips the test, saying why, when no engine answers, and fails
// it when the images could not be built or docker-compose is missing
// beside a running engine (make test-deps installs it).
func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives Docker; skipped under -short")
	}
	if dockerState.skip != "" {
		t.Skip(dockerState.skip)
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("a Docker engine answers but docker-compose is missing (make test-deps installs it)")
		}
		t.Skip("docker-compose is missing (make test-deps installs it)")
	}
	require.NoError(t, dockerState.imageErr, "building the images")
}

// buildImages runs make image and make redis-image with this package's
// tags; version, when set, is the version the binary reports.
func buildImages(version string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"-C", root, "--no-print-directory", "image", "redis-image", "IMAGE=" + botImage, "REDIS_IMAGE=" + redisImage}
	if version != "" {
		args = append(args, "VERSION="+version)
	}
	out, err := run(ctx, "", "make", args...)
	if err != nil {
		return fmt.Errorf("make image redis-image: %w\n%s", err, out)
	}
	return nil
}

// run runs a command and returns its combined output.
func run(ctx context.Context, dir, name string, args ...string) (string, error) {
	var out bytes.Buffer
	err := runTo(ctx, dir, &out, &out, name, args...)
	return out.String(), err
}

// runTo runs a command with its output going to stdout and stderr; an
// error carries what it wrote to stderr when that is a buffer of its own.
func runTo(ctx context.Context, dir string, stdout, stderr *bytes.Buffer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		msg := ""
		if stderr != stdout {
			msg = ": " + strings.TrimSpace(stderr.String())
		}
		return fmt.Errorf("%s %s: %w%s", name, strings.Join(args, " "), err, msg)
	}
	return nil
}

// project is a compose project of the repository's docker-compose.yml in
// a folder of its own: the folder holds the test's .env and links to the
// compose file and the monitoring files, so the real file is what runs.
type project struct {
	t    *testing.T
	name string
	dir  string
	down sync.Once
}

func newProject(t *testing.T, dotenv map[string]string) *project {
	t.Helper()
	p := &project{t: t, name: fmt.Sprintf("mldeploy%d", time.Now().UnixNano()%1e9), dir: t.TempDir()}
	for _, f := range []string{"docker-compose.yml", "monitoring"} {
		require.NoError(t, os.Symlink(filepath.Join(root, f), filepath.Join(p.dir, f)))
	}
	p.writeEnv(dotenv)
	t.Cleanup(p.Down)
	return p
}

// writeEnv writes the project's .env, in a stable order.
func (p *project) writeEnv(env map[string]string) {
	var b strings.Builder
	for _, k := range sortedKeys(env) {
		b.WriteString(k + "=" + env[k] + "\n")
	}
	require.NoError(p.t, os.WriteFile(filepath.Join(p.dir, ".env"), []byte(b.String()), 0o600))
}

// compose runs docker-compose on the project, fails the test on error and
// returns what the command wrote to its standard output.
func (p *project) compose(timeout time.Duration, args ...string) string {
	p.t.Helper()
	out, err := p.tryCompose(timeout, args...)
	require.NoError(p.t, err)
	return out
}

func (p *project) tryCompose(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := runTo(ctx, p.dir, &stdout, &stderr, "docker-compose", append([]string{"--ansi", "never", "-p", p.name}, args...)...)
	return stdout.String(), err
}

// Down removes the project's containers, networks and volumes, after
// writing the nodes' logs to the test log if the test failed.
func (p *project) Down() {
	p.down.Do(func() {
		if p.t.Failed() {
			if out, err := p.tryCompose(time.Minute, "logs", "--no-color", "--tail", "300"); err == nil {
				p.t.Logf("compose logs:\n%s", out)
			}
		}
		// Compose v1 leaves some anonymous volumes of recreated containers
		// behind after down -v: remove every volume a container of the
		// project had.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ids, _ := run(ctx, "", "docker", "ps", "-aq", "--filter", "label=com.docker.compose.project="+p.name)
		var volumes []string
		for _, id := range strings.Fields(ids) {
			out, err := run(ctx, "", "docker", "container", "inspect", "--format",
				`{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}`, id)
			if err == nil {
				volumes = append(volumes, strings.Fields(out)...)
			}
		}
		if out, err := p.tryCompose(3*time.Minute, "down", "-v", "--remove-orphans", "--timeout", "10"); err != nil {
			p.t.Errorf("docker-compose down: %v\n%s", err, out)
		}
		for _, v := range volumes {
			_, _ = run(ctx, "", "docker", "volume", "rm", v) // gone already, mostly
		}
	})
}

// containers returns the ids of the service's running containers.
func (p *project) containers(service string) []string {
	p.t.Helper()
	out := p.compose(time.Minute, "ps", "-q", service)
	return strings.Fields(out)
}

// inspect reads one field of a container or image with a Go template.
func inspect(t *testing.T, what, id, format string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := run(ctx, "", "docker", what, "inspect", "--format", format, id)
	require.NoError(t, err, out)
	return strings.TrimSpace(out)
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := run(ctx, "", "docker", args...)
	require.NoError(t, err, out)
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

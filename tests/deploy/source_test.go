package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// goBase is the builder image deploy/Dockerfile names.
const goBase = "golang:1.26-bookworm"

// sourceBuildEnv set to 1 runs TestImageFromSource.
const sourceBuildEnv = "MIRRORLEECH_TEST_SOURCE_BUILD"

// deploy/Dockerfile's default target, built from the repository's sources
// the way a user with a registry builds it: the golang stage downloads the
// modules through the Go proxy, compiles, and lays out the same image as
// `make image`. No golang image can be pulled here, so when none is present
// the test makes a stand-in of the same kind and removes it afterwards:
// Debian bookworm (debootstrap from Debian's mirror) with this machine's Go
// toolchain and trust store.
//
// It takes about 6 minutes on 2 cores (modules and a cold compile in the
// container), too long for `make test` to stay well inside its budget, so
// it runs on request: `make test-image-source` (sourceBuildEnv=1).
func TestImageFromSource(t *testing.T) {
	if os.Getenv(sourceBuildEnv) != "1" {
		t.Skipf("the from-source build takes about 6 minutes: run `make test-image-source` (%s=1)", sourceBuildEnv)
	}
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if _, err := run(ctx, "", "docker", "image", "inspect", goBase); err != nil {
		makeGoBase(t, ctx)
	}
	before := danglingImages(t)
	const tag = "mirrorleech:deploytest-source"
	start := time.Now()
	out, err := run(ctx, root, "docker", "build", "-q", "-f", "deploy/Dockerfile", "--build-arg", "VERSION=fromsource", "-t", tag, ".")
	t.Cleanup(func() {
		// The build stage (modules, toolchain, build cache) is left as
		// untagged images: remove the ones this build made.
		for _, id := range danglingImages(t) {
			if !slices.Contains(before, id) {
				_, _ = run(context.Background(), "", "docker", "image", "rm", id)
			}
		}
		_, _ = run(context.Background(), "", "docker", "image", "rm", tag)
	})
	require.NoError(t, err, out)
	t.Logf("built from source in %.0f s: %s bytes", time.Since(start).Seconds(), inspect(t, "image", tag, "{{.Size}}"))
	checkImage(t, tag)
}

// makeGoBase imports a stand-in for goBase: a minimal Debian bookworm with
// CA certificates, this machine's trust store (the Go proxy is reached
// through it) and its Go toolchain at /usr/local/go.
func makeGoBase(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := exec.LookPath("debootstrap"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("debootstrap is missing (make test-image-source installs it)")
		}
		t.Skip("no " + goBase + " image and no debootstrap to make one (make test-image-source installs it)")
	}
	dir := filepath.Join(t.TempDir(), "rootfs")
	start := time.Now()
	out, err := run(ctx, "", "debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", dir,
		"http://deb.debian.org/debian")
	require.NoError(t, err, lastLines(out, 20))
	for _, args := range [][]string{
		{"cp", "-a", runtime.GOROOT(), filepath.Join(dir, "usr/local/go")},
		{"cp", "/etc/ssl/certs/ca-certificates.crt", filepath.Join(dir, "etc/ssl/certs/ca-certificates.crt")},
	} {
		out, err := run(ctx, "", args[0], args[1:]...)
		require.NoError(t, err, out)
	}
	out, err = run(ctx, "", "sh", "-c", `tar -C "$1" -c . | docker import \
		--change 'ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV GOPATH=/go' --change 'WORKDIR /go' - "$2"`, "sh", dir, goBase)
	require.NoError(t, err, out)
	t.Cleanup(func() { _, _ = run(context.Background(), "", "docker", "image", "rm", goBase) })
	t.Logf("no %s here: made a stand-in (Debian bookworm, Go %s) in %.0f s", goBase, runtime.Version(), time.Since(start).Seconds())
}

func danglingImages(t *testing.T) []string {
	t.Helper()
	return strings.Fields(docker(t, "images", "-q", "--no-trunc", "-f", "dangling=true"))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

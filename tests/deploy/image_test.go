package deploy

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The image: a static binary that runs on the empty base as the
// unprivileged user, with CA certificates and the time zone database,
// its folders writable by that user, and a health check.
func TestImage(t *testing.T) {
	needDocker(t)
	size := inspect(t, "image", botImage, "{{.Size}}")
	t.Logf("image %s: %s bytes (both images built in %.1f s)", botImage, size, dockerState.built.Seconds())
	checkImage(t, botImage)
}

// checkImage asserts what every mirrorleech image is, however it was
// built.
func checkImage(t *testing.T, image string) {
	t.Helper()
	require.Equal(t, "65532:65532", inspect(t, "image", image, "{{.Config.User}}"), "the image runs as a non-root user")
	require.Equal(t, `["CMD","/mirrorleech","healthcheck"]`, inspect(t, "image", image, "{{json .Config.Healthcheck.Test}}"))

	files := exportImage(t, image)
	bin, ok := files["mirrorleech"]
	require.True(t, ok, "the binary is /mirrorleech")
	require.Zero(t, bin.hdr.Uid, "the binary belongs to root, so the user cannot replace it")
	require.Equal(t, int64(0o755), bin.hdr.Mode&0o777)
	for _, dir := range []string{"data/", "downloads/", "mirror/", "tmp/"} {
		h, ok := files[dir]
		require.True(t, ok, "/%s exists", dir)
		require.Equal(t, 65532, h.hdr.Uid, "/%s belongs to the user", dir)
	}
	require.Contains(t, string(files["etc/passwd"].data), ":65532:65532:")
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(files["etc/ssl/certs/ca-certificates.crt"].data), "CA certificates are PEM")
	require.Greater(t, len(files["etc/ssl/certs/ca-certificates.crt"].data), 100_000, "a whole CA bundle")

	// The binary runs alone on the empty base (static), reads its settings
	// and refuses to start without a token, listing the problem (exit 2).
	// A cron schedule in a named time zone is accepted, so the zone
	// database is in the image; an unknown zone is refused, which shows
	// the check can fail.
	for _, tc := range []struct {
		zone   string
		zoneOK bool
	}{{"Asia/Tokyo", true}, {"Nowhere/Atlantis", false}} {
		out, code := runImage(t, "-e", "CLEANUP_SCHEDULE=CRON_TZ="+tc.zone+" 0 3 * * *", image)
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "BOT_TOKEN", out)
		if tc.zoneOK {
			require.NotContains(t, out, "CLEANUP_SCHEDULE", "a schedule in %s is valid: %s", tc.zone, out)
		} else {
			require.Contains(t, out, "CLEANUP_SCHEDULE", "an unknown zone is refused: %s", out)
		}
	}
	// The health probe exits non-zero when nothing answers.
	out, code := runImage(t, image, "healthcheck")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "healthcheck")
}

type imageFile struct {
	hdr  *tar.Header
	data []byte
}

// exportImage returns the files of an image's root file system (the
// small ones with their content), by name without the leading slash.
func exportImage(t *testing.T, image string) map[string]imageFile {
	t.Helper()
	id := strings.TrimSpace(docker(t, "create", image))
	t.Cleanup(func() { docker(t, "rm", "-f", id) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "export", id)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	files := map[string]imageFile{}
	r := tar.NewReader(&stdout)
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		f := imageFile{hdr: h}
		if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
			f.data, err = io.ReadAll(r)
			require.NoError(t, err)
		}
		files[strings.TrimPrefix(h.Name, "/")] = f
	}
	return files
}

// runImage runs a container to its end and returns its output and exit
// status.
func runImage(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := run(ctx, "", "docker", append([]string{"run", "--rm"}, args...)...)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out, exit.ExitCode()
	}
	require.NoError(t, err, out)
	return out, 0
}

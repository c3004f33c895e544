package actortree_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/monitoring/actortree"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture"
	"github.com/mirrorleech/mirrorleech/monitoring/actortree/internal/fixture/download"
)

// chromium finds a Chromium binary, installing Debian's package when the
// test runs as root and none is there. It skips the test, saying why, only
// when no browser can be had.
func chromium(t *testing.T) string {
	t.Helper()
	find := func() string {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
			if p, err := exec.LookPath(name); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	if testing.Short() {
		t.Skip("no Chromium on PATH and -short forbids installing it")
	}
	if os.Geteuid() != 0 {
		t.Skip("no Chromium on PATH and not root, so it cannot be installed: apt-get install chromium")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no Chromium on PATH and no apt-get to install it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", "apt-get update && apt-get install -y --no-install-recommends chromium")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.CombinedOutput()
	if p := find(); err == nil && p != "" {
		return p
	}
	t.Skipf("no Chromium on PATH and installing it failed (%v): %s", err, tail(out, 600))
	return ""
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// The HTML view loads in a real headless browser, fetches the JSON and
// renders the tree: the grandchild's element is in the DOM, nested in its
// parents' elements, and a stuck actor is marked.
func TestBrowserRendersTheTree(t *testing.T) {
	bin := chromium(t)
	sys, reg, root := newSystem(t, 150*time.Millisecond)
	spawnChain(t, root, "s1")
	blocker, err := root.SpawnNamed(download.Props(fixture.Node{}), "blocker")
	require.NoError(t, err)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	entered := make(chan struct{})
	root.Send(blocker, &fixture.Block{Entered: entered, Release: release})
	<-entered
	eventually(t, reg, sys, func(m map[string]actortree.Actor) bool { return m["s1/t1/d1"].Kind != "" })
	srv := serve(t, actortree.Handler(reg, sys, "node-a", nil))

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless=new", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", srv.URL+actortree.Path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", tail(stderr.Bytes(), 2000))
	dom := stdout.String()

	element := func(id, kind string) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`<details class="([^"]*)" data-actor-id="%s" data-kind="%s"`,
			regexp.QuoteMeta(id), regexp.QuoteMeta(kind)))
	}
	for _, c := range []struct{ id, kind string }{{"s1", "session"}, {"s1/t1", "task"}, {"s1/t1/d1", "download"}} {
		require.Regexp(t, element(c.id, c.kind), dom, "the %s element is rendered; DOM:\n%s", c.id, dom)
	}
	// Nesting: nothing closes between a parent's element and its child's.
	for _, pair := range [][2]string{{"s1", "s1/t1"}, {"s1/t1", "s1/t1/d1"}} {
		parent := strings.Index(dom, `data-actor-id="`+pair[0]+`"`)
		child := strings.Index(dom, `data-actor-id="`+pair[1]+`"`)
		require.Less(t, parent, child)
		require.NotContains(t, dom[parent:child], "</details>", "%s is inside %s", pair[1], pair[0])
	}
	require.Contains(t, dom, "<dd>downloading</dd>", "state fields are shown")
	stuck := element("blocker", "download").FindStringSubmatch(dom)
	require.NotNil(t, stuck)
	require.Contains(t, strings.Fields(stuck[1]), "stuck")
	require.NotContains(t, strings.Fields(element("s1", "session").FindStringSubmatch(dom)[1]), "stuck")
}

package tests

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/config"
)

var update = flag.Bool("update", false, "rewrite the README's generated configuration table")

const (
	beginMark = "<!-- config:begin"
	endMark   = "<!-- config:end -->"
)

// The README's configuration table is generated from config.Variables; this
// keeps the two in agreement (-update rewrites it).
func TestREADMEConfigurationTableIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, beginMark)
	j := strings.Index(s, endMark)
	require.True(t, i >= 0 && j > i, "README.md lacks the config markers")
	head := s[:i] + s[i:][:strings.Index(s[i:], "\n")+1]
	want := head + config.MarkdownTable() + s[j:]
	if *update {
		require.NoError(t, os.WriteFile("../README.md", []byte(want), 0o644))
		return
	}
	require.Equal(t, want, s, "README.md's configuration table is stale: go test ./tests -run README -update")
	for _, cmd := range []string{"go run ./cmd/mirrorleech", "make test"} {
		require.Contains(t, s, cmd)
	}
}

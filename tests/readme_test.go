package tests

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/config"
)

// The README's configuration table is generated from config.Variables; this
// keeps the two in agreement.
func TestREADMEConfigurationTableIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	require.True(t, strings.Contains(string(b), config.MarkdownTable()),
		"README.md's configuration table differs from config.Variables; regenerate it from config.MarkdownTable()")
	for _, cmd := range []string{"go run ./cmd/mirrorleech", "make test"} {
		require.Contains(t, string(b), cmd)
	}
}

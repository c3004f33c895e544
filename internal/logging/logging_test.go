package logging

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecretsNeverLogged(t *testing.T) {
	const token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := New(&buf, slog.LevelDebug, format, token)
		err := fmt.Errorf("sending: %w", errors.New(`Post "http://x/bot`+token+`/sendMessage": EOF`))
		log.With(slog.String("url", "http://x/bot"+token+"/getMe")).Info("call to bot"+token, slog.Any("err", err))
		out := buf.String()
		require.NotContains(t, out, token, format)
		require.Contains(t, out, "<redacted>", format)
	}
}

func TestAtLeast(t *testing.T) {
	var buf bytes.Buffer
	log := AtLeast(New(&buf, slog.LevelDebug, "text"), slog.LevelWarn)
	log.Info("quiet")
	log.Warn("loud")
	require.NotContains(t, buf.String(), "quiet")
	require.Contains(t, buf.String(), "loud")
}

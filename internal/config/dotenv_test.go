package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDotenvValues(t *testing.T) {
	text := strings.Join([]string{
		"\uFEFF# comment first, behind a byte order mark",
		"",
		"   # indented comment",
		"BOT_TOKEN=plain",
		"export OWNER_ID=  42  ",
		"export\tSUDO_USERS=\"1 2\"",
		"AUTHORIZED_CHATS='-100 # not a comment'",
		"TELEGRAM_API_URL=http://h/p#frag # trailing comment",
		`DOWNLOAD_DIR="a \"quoted\" \\ path\twith\ntab" # note`,
		"STATE_DIR=''",
		"MIRROR_DEST=",
		"NODE_NAME=\"n1\"#x",
		"REDIS_URL=redis://h:6379\r",
		"API_TOKEN = spaced around equals",
	}, "\n")
	vals, errs := parseDotenv("c.env", text)
	require.Empty(t, errs)
	want := map[string]string{
		"BOT_TOKEN":        "plain",
		"OWNER_ID":         "42",
		"SUDO_USERS":       "1 2",
		"AUTHORIZED_CHATS": "-100 # not a comment",
		"TELEGRAM_API_URL": "http://h/p#frag",
		"DOWNLOAD_DIR":     "a \"quoted\" \\ path\twith\ntab",
		"STATE_DIR":        "",
		"MIRROR_DEST":      "",
		"NODE_NAME":        "n1",
		"REDIS_URL":        "redis://h:6379",
		"API_TOKEN":        "spaced around equals",
	}
	got := map[string]string{}
	for k, s := range vals {
		got[k] = s.value
	}
	require.Equal(t, want, got)
	require.Equal(t, "c.env:5", vals["OWNER_ID"].origin)
}

func TestParseDotenvErrors(t *testing.T) {
	tests := []struct {
		line    string
		wantMsg string
	}{
		{"JUSTTEXT", "malformed line: want KEY=VALUE"},
		{"=value", "malformed line: the name before '=' is not a variable name"},
		{"1ABC=x", "malformed line: the name before '=' is not a variable name"},
		{"BOT-TOKEN=x", "malformed line: the name before '=' is not a variable name"},
		{"exportBOT_TOKEN x", "malformed line: want KEY=VALUE"},
		{`BOT_TOKEN="open`, "BOT_TOKEN: unterminated double quote"},
		{`BOT_TOKEN='open`, "BOT_TOKEN: unterminated single quote"},
		{`BOT_TOKEN="a" b`, "BOT_TOKEN: unexpected text after the closing quote"},
		{"BOT_TOKEN='a'b", "BOT_TOKEN: unexpected text after the closing quote"},
		{"BOT_TOKN=x", "unknown variable BOT_TOKN (did you mean BOT_TOKEN?)"},
		{"log_level=debug", "unknown variable log_level (did you mean LOG_LEVEL?)"},
		{"TOTALLY_DIFFERENT=x", "unknown variable TOTALLY_DIFFERENT"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, errs := parseDotenv("config.env", "# header\n"+tt.line+"\n")
			require.Len(t, errs, 1)
			require.EqualError(t, errs[0], "config.env:2: "+tt.wantMsg)
			require.NotContains(t, tt.wantMsg, "did you mean TOTALLY")
		})
	}

	_, errs := parseDotenv("config.env", "OWNER_ID=1\nOWNER_ID=2\n")
	require.Len(t, errs, 1)
	require.EqualError(t, errs[0], "config.env:2: OWNER_ID is already set on line 1")
}

func TestSuggest(t *testing.T) {
	require.Equal(t, "STATUS_INTERVAL", suggest("STATUS_INTERVALL"))
	require.Equal(t, "HTTP_ADDR", suggest("HTTP_ADR"))
	require.Empty(t, suggest("SOMETHING_ELSE"))
}

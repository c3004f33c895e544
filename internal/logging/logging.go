// Package logging builds the node's slog logger. It owns one concern beyond
// formatting: secrets never reach the log. Every message and string or error
// attribute is scrubbed of the configured secrets (the bot token above all:
// net/http errors carry it inside request URLs).
//
// It receives the level, format and secrets and emits a *slog.Logger; it
// cannot fail.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing text or JSON (format "json") to w.
func New(w io.Writer, level slog.Level, format string, secrets ...string) *slog.Logger {
	var keep []string
	for _, s := range secrets {
		if len(s) >= 6 {
			keep = append(keep, s)
		}
	}
	scrub := func(s string) string {
		for _, sec := range keep {
			s = strings.ReplaceAll(s, sec, "<redacted>")
		}
		return s
	}
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindString:
				a.Value = slog.StringValue(scrub(a.Value.String()))
			case slog.KindAny:
				switch v := a.Value.Any().(type) {
				case error:
					a.Value = slog.StringValue(scrub(v.Error()))
				case interface{ String() string }:
					a.Value = slog.StringValue(scrub(v.String()))
				}
			}
			return a
		},
	}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(&scrubMessage{Handler: h, scrub: scrub})
}

// scrubMessage scrubs the record's message, which ReplaceAttr does not see.
type scrubMessage struct {
	slog.Handler
	scrub func(string) string
}

func (s *scrubMessage) Handle(ctx context.Context, r slog.Record) error {
	r.Message = s.scrub(r.Message)
	return s.Handler.Handle(ctx, r)
}

func (s *scrubMessage) WithAttrs(as []slog.Attr) slog.Handler {
	return &scrubMessage{Handler: s.Handler.WithAttrs(as), scrub: s.scrub}
}

func (s *scrubMessage) WithGroup(name string) slog.Handler {
	return &scrubMessage{Handler: s.Handler.WithGroup(name), scrub: s.scrub}
}

// AtLeast wraps l so that records below level are dropped; it quiets chatty
// libraries without changing the node's own level.
func AtLeast(l *slog.Logger, level slog.Level) *slog.Logger {
	return slog.New(&minLevel{Handler: l.Handler(), min: level})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m *minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m *minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return &minLevel{Handler: m.Handler.WithAttrs(as), min: m.min}
}

func (m *minLevel) WithGroup(name string) slog.Handler {
	return &minLevel{Handler: m.Handler.WithGroup(name), min: m.min}
}

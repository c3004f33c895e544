package torrent

import (
	"context"
	"log/slog"
)

// quietHandler passes the library's records on only from minLevel up:
// anacrolix/torrent logs per-peer and per-piece detail at Debug, which
// would drown a node's log even when the node itself runs at Debug.
type quietHandler struct {
	next     slog.Handler
	minLevel slog.Level
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.minLevel && h.next.Enabled(ctx, l)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{next: h.next.WithAttrs(attrs), minLevel: h.minLevel}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{next: h.next.WithGroup(name), minLevel: h.minLevel}
}

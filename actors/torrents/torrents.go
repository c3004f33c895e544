package torrents

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/mirrorleech/mirrorleech/internal/torrent"
)

// Actor owns a torrent client.
type Actor struct {
	client *torrent.Client
	log    *slog.Logger
	closed bool
}

var _ actor.Actor = (*Actor)(nil)

// Props returns the props of the actor owning client. The actor closes the
// client when it stops; a restart keeps it (the client is not the actor's
// state to rebuild).
func Props(client *torrent.Client, log *slog.Logger) *actor.Props {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return actor.PropsFromProducer(func() actor.Actor { return &Actor{client: client, log: log} })
}

// Receive implements actor.Actor.
func (a *Actor) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *actor.Started:
		a.log.Info("torrent client ready", slog.Int("port", a.client.Port()))
	case *actor.Stopping:
		if a.closed {
			return
		}
		a.closed = true
		// Close is quick offline (well under a second); online it sends
		// "stopped" announces, bounded by the client's own timeouts.
		if err := a.client.Close(); err != nil {
			a.log.Warn("closing the torrent client", slog.Any("err", err))
		}
	}
}

// Describe reports the client for the actor tree.
func (a *Actor) Describe() map[string]any {
	return map[string]any{"port": a.client.Port(), "seeding": a.client.Seeding(), "closed": a.closed}
}

package messages

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Names of the node's top-level actors. Their PIDs are derived from the name
// and the system's address, so no actor needs a mutable registry to find them.
const (
	OutboxName   = "outbox"
	CronName     = "cron"
	GatewayName  = "gateway"
	GrainsName   = "grains"
	SlotsName    = "slots"
	TorrentsName = "torrents"
	SweeperName  = "sweeper"
)

// Local returns the PID of the node-level actor with the given name.
func Local(sys *actor.ActorSystem, name string) *actor.PID {
	return actor.NewPID(sys.Address(), name)
}

// ShowStats asks the cron actor to post the node's statistics (/stats).
type ShowStats struct {
	ChatID  int64
	ReplyTo int
}

// GetNodeStats asks the cron actor for its latest sample; it answers NodeStats.
type GetNodeStats struct{}

// NodeStats is the node's latest sample of itself.
type NodeStats struct {
	Node       string
	Uptime     time.Duration
	CPUPercent float64
	MemPercent float64
	ProcRSS    int64
	DiskFree   int64
	DiskTotal  int64
	Load1      float64
	Tasks      map[Stage]int
}

// RouteToGrain asks the grains router to deliver Message to the cluster
// identity (Kind, Identity), activating it where the cluster places it.
// Messages to one identity are delivered in the order they were routed.
type RouteToGrain struct {
	Kind     string
	Identity string
	Message  any
}

// Cluster kinds.
const (
	SessionKind = "session"
	ChatKind    = "chat"
)

package redisprovider

// Nudges counts pub/sub messages (join/leave nudges and re-subscription
// confirmations) the provider has received.
func (p *Provider) Nudges() int64 { return p.nudges.Load() }

// Holding reports whether the provider is holding views back after a
// registration loss.
func (p *Provider) Holding() bool { return p.holding() }

package torrent

// Holds reports whether dir (a Request.Dir) belongs to a torrent that is
// seeding now. Unlike Retain it takes nothing over: maintenance asks it so
// as not to remove the data of a finished task that still seeds.
func (c *Client) Holds(dir string) bool { return c.seedingIn(dir, nil) }

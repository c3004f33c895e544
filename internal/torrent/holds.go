package torrent

import "path/filepath"

// Holds reports whether dir (a Request.Dir) belongs to a torrent that is
// seeding now. Unlike Retain it takes nothing over: maintenance asks it so
// as not to remove the data of a finished task that still seeds.
func (c *Client) Holds(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seeds[abs]
	return ok
}

// Package torrents holds the node-level actor that owns the node's BitTorrent
// client (internal/torrent).
//
// One client serves every torrent task of the node: download stages use it
// through the torrent download engine, and finished torrents keep seeding in
// it after their tasks end. The actor's lifetime is the client's: it is
// spawned with a ready client before any session can start a task and closes
// it when stopped (node shutdown), which drops every torrent, stops seeding
// and removes the folders seeding had kept. It receives only lifecycle
// messages and Describe probes; it emits nothing. Closing errors are logged,
// never escalated: there is nothing left to retry at shutdown.
package torrents

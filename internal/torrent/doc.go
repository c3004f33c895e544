// Package torrent is the BitTorrent engine: it turns a magnet link or the
// bytes of a .torrent file into verified files in a task's directory, and
// optionally seeds them afterwards. It knows nothing of actors or Telegram;
// it wraps github.com/anacrolix/torrent v1.59.1 and works around that
// release's traps, which docs/torrent-library.md in this repository records
// with the measurements behind each workaround (rules 1-8 there).
//
// # What it owns
//
// A Client is the node's one BitTorrent client (New, Close): one listening
// TCP port (Config.ListenPort), DHT, trackers and PEX (on unless turned
// off), client-wide download and upload rate limits. It never serves HTTP:
// the library registers debug handlers on http.DefaultServeMux, which the
// node must therefore never serve. Each Download owns its Request.Dir:
//
//	Dir/data/<name>            the torrent's files, with their folders
//	Dir/.torrent/.torrent.bolt.db   verified pieces (bbolt, pure Go)
//	Dir/.torrent/info          the info dictionary once known
//	Dir/.torrent/selection.json     the files the user chose (-s)
//	Dir/.torrent/complete.json      written when the selection is complete
//
// # Receives and emits
//
// Client.Download receives a Request (source, Dir, extra peers, a Select
// callback for the file list, a stall timeout and seed limits), calls
// Request.Progress about four times a second (phase, verified and total
// bytes of the selection, peers, seeders, bytes up and down) and once when
// it returns, and returns a Result (path, name, size and number of the
// selected files).
//
// # How a download runs
//
//  1. Metadata: a magnet's info dictionary comes from peers, unless an
//     earlier run saved it in Dir. It is saved as soon as it is known.
//  2. Selection: Request.Select gets the file list (padding files hidden)
//     once; the answer is saved, so a resumed task never asks again.
//     Unselected files get no priority; pieces they share with a chosen
//     file are still fetched and write into them.
//  3. Download: pieces are written in place (no part files); each verified
//     piece is synced to disk (the library fsyncs it) and then recorded in
//     the bolt database, so a later call with the same Dir starts from the
//     verified pieces without rehashing them.
//     Completion is the library's completion flag or, with a selection, the
//     verified state of every piece that holds selected bytes (never the
//     return of VerifyData, which comes back early in this release).
//  4. Finish: files that were not selected, and the folders that leaves
//     empty, are removed; complete.json is written; then the torrent is
//     dropped (files closed) or, with Request.Seed, left seeding until it
//     uploaded Ratio times the selected size or Time passed. Retain hands a
//     seeding task's folder to the client, which removes it when seeding
//     ends; Holds only tells whether a folder is seeding.
//
// The bolt database records whole verified pieces only: what is partly
// received when a download stops is fetched again by the next run. Two
// measures keep that small. Each peer's request window is capped at what
// it delivers in 0.3 s (the library keeps up to ~960 requests, 15 MiB, in
// flight to every peer, and peers like itself serve them in random order,
// leaving dozens of pieces partial at any time); the window grows with the
// rate, so throughput is not capped while the round trip stays under 0.3 s.
// And a stopped download (cancelled context, closed client) keeps fetching
// only the missing chunks of its partial pieces for up to 0.7 s, so they are
// verified and recorded before it returns. A killed process loses its
// partial pieces: about 0.3 s of each peer's rate.
//
// # Peer addresses
//
// With Config.CheckPeer set (the network guard's rule in production),
// every peer address is vetted before a connection: the peers the link
// names (x.pe, Request.Peers) by Download itself, which drops the refused
// ones before the library sees them; peers from trackers, PEX and the DHT,
// DHT nodes, incoming connections and tracker addresses by the library's
// IP block list; and every outgoing peer connection once more by the
// dialer. Refusals are reported to Config.PeerRefused by source (link,
// swarm, dial), never logged one by one. A link whose peers are all
// refused fails at once when nothing else can find peers (no DHT, no
// tracker, web seed or metainfo source); otherwise the download goes on
// without them, and a stall says how many were refused.
//
// # Process requirements
//
// The library reads TORRENT_STORAGE_DEFAULT_FILE_IO in an init function:
// main must call EnsureClassicFileIO first (it re-executes the program with
// the variable set), else the default mmap I/O keeps deleted files mapped
// and their disk space is not freed until the process exits. Every client
// uploads with a 16 MiB per-connection request budget; the library's 1 MiB
// default stalls uploads to its own kind after about 2 MiB. uTP and WebRTC
// are off, and so is UPnP. The package builds with CGO_ENABLED=0.
//
// # Failures
//
// Errors are wrapped with %w; classify them with errors.Is:
//
//   - ErrBadTorrent: the magnet or .torrent cannot be parsed or names files
//     unsafely (permanent).
//   - ErrStalled: no metadata, or no new data, for Request.StallTimeout;
//     the message says which and for how long (transient).
//   - ErrNothingSelected: the selection was empty (permanent).
//   - ErrDuplicate: another Download of this client has the same torrent
//     (permanent for the task). A torrent that is only seeding is stopped
//     instead.
//   - ErrClosed: the client was closed during the call (transient).
//   - The error of Config.CheckPeer (a *netguard.BlockedError in
//     production), wrapped, when every peer the link names is refused and
//     there is no other way to find peers (permanent).
//   - Cancellation returns ctx.Err(), wrapped, within a second.
//   - Disk errors (creating Dir, the bolt database, writing pieces, removing
//     files) keep their cause reachable, e.g. errors.Is(err, syscall.ENOSPC);
//     a failed piece write ends the download at once (the library alone
//     would stop downloading without a word).
//
// The engine never panics on bad input; it logs through Config.Logger with
// the library's records from Info up.
package torrent

// Package swarm provides real BitTorrent peers on 127.0.0.1 for tests and
// benchmarks: a seeder (NewSeeder, Seed), a leecher (Fetch) and a tiny HTTP
// tracker (NewTracker), each seeder and leecher on its own
// github.com/anacrolix/torrent client, separate from the engine's
// (internal/torrent) and never connected to DHT, PEX or the internet.
//
// It receives file contents (in memory, or a file or folder already on
// disk) and emits what a test needs to point a client at them: the .torrent
// bytes, a magnet link that names the seeder with x.pe, the seeder's
// address and info hash, and the bytes it uploaded. Random and
// NewRandomReader give reproducible incompressible payloads (ChaCha8).
//
// Every client here uploads with the 16 MiB per-connection request budget
// (docs/torrent-library.md rule 1); the library's 1 MiB default stalls
// uploads after about 2 MiB. A seeder with an upload limit wakes its connections' writers
// every 50 ms: the library's rate-limited upload can lose a writer's
// wake-up, which then stalls the connection until the next keep-alive, a
// minute later. NewSeeder and NewTracker fail the test on error and are
// cleaned up when it ends; Seed and Fetch return errors instead, for
// programs such as the benchmark's seeder.
package swarm

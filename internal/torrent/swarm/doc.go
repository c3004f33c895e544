// Package swarm provides real BitTorrent peers on 127.0.0.1 for tests and
// benchmarks: a seeder, a leecher and a tiny HTTP tracker, each built on
// its own github.com/anacrolix/torrent client, separate from the engine's
// (internal/torrent) and never connected to DHT, PEX or the internet.
//
// It receives file contents (in memory, or a folder already on disk) and
// emits what a test needs to point a client at them: the .torrent bytes, a
// magnet link that names the seeder with x.pe, the seeder's address and
// info hash, and counters of the bytes it uploaded.
//
// Every client here uploads with the 16 MiB per-connection request budget
// (engines.md rule 1); the library's 1 MiB default stalls uploads after
// about 2 MiB. NewSeeder, NewTracker and the package-level helpers that take
// a testing.TB fail the test on error and register their cleanup; Seed and
// Fetch return errors instead, for programs such as the benchmark's seeder.
package swarm

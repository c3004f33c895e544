// Command torrent-seed is the seeder of the torrent benchmark
// (tests/bench/torrent_test.go). It is not used by the tests.
//
// It receives a work directory and flags (-size, -seed, -name, -piece,
// -announce, -rate), writes a file of ChaCha8 bytes there once (reused by
// later runs, with its SHA-256 beside it), builds a .torrent of it and seeds
// it on 127.0.0.1 with a separate anacrolix/torrent client: classic file
// I/O (it re-executes itself with TORRENT_STORAGE_DEFAULT_FILE_IO=classic)
// and the 16 MiB upload budget of docs/torrent-library.md rule 1. It
// prints "addr=", "torrent=", "name=", "size=", "sha256=", "magnet=" and
// then "ready", and seeds until it gets SIGINT or SIGTERM or its standard
// input closes. It exits non-zero, printing the error, if any step fails.
package main

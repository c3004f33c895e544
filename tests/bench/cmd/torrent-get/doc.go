// Command torrent-get downloads one torrent with the internal/torrent
// engine used directly (no actors), for the torrent benchmark in
// tests/bench/torrent_test.go. It is not used by the tests.
//
// It receives a .torrent file (-torrent) or a magnet link (-magnet), an
// output directory (-o) and optional peers (-peer host:port, repeatable) and
// tracker use (-trackers). DHT and PEX are off and it listens on
// 127.0.0.1. It re-executes itself with
// TORRENT_STORAGE_DEFAULT_FILE_IO=classic first, like the bot. It prints
// "path=", "size=", "seconds=" and "mbps=" (10^6 bytes per second of the
// download alone) and exits non-zero, printing the error, on failure.
package main

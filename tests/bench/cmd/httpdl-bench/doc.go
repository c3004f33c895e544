// Command httpdl-bench downloads one URL with the internal/httpdl engine,
// for the benchmark in tests/bench/httpdl.sh. It is not used by the tests.
//
// It receives a URL and flags (-c connections, -seg segment size, -o output
// directory, -sha256 to hash the result) and prints "name=", "size=",
// "resumed=", "seconds=", "mbps=" (10^6 bytes per second of wall time of
// the download alone) and, when asked, "sha256=" lines. It exits non-zero
// when the download fails, printing the error.
package main

// Command origin-server is the HTTP origin of the download benchmark
// (tests/bench/httpdl.sh). It is not used by the tests.
//
// It owns one generated file: Size deterministic pseudo-random bytes (a
// ChaCha8 stream from -seed), written once to -dir and reused by later runs
// with the same size and seed. It serves that file on 127.0.0.1 with
// http.ServeContent, so ranges, If-Range, the strong ETag and
// Last-Modified behave like a well-behaved file host, and unthrottled
// bodies go out with sendfile(2). With -cap every TCP connection is paced
// to that many bytes per second, like hosts that throttle each connection.
//
// It prints "url=", "size=" and "sha256=" lines and then "ready" on
// standard output, and serves until SIGINT or SIGTERM. It exits non-zero
// when the flags are invalid or the file cannot be generated or served.
package main

// Package origin is a fake HTTP file origin for tests and benchmarks, built
// on the standard library only.
//
// It owns a loopback HTTP/1.1 server on 127.0.0.1:0 and the files it serves.
// It receives File descriptions (New, NewServer, Add) and emits URLs, the
// content checksums (SHA256, Content) and counters (BytesServed, Requests) a
// test asserts on. Files are either given bytes or generated content of any
// size, produced on the fly from a seed and seekable, so multi-gigabyte
// benchmarks cost no memory.
//
// Range requests behave like a well-behaved file host because they are
// served by http.ServeContent: single and multiple ranges, suffix and open
// ranges, 206 with exact Content-Range, 416 with "bytes */SIZE", and If-Range
// against the strong ETag or the Last-Modified date (a mismatch gives 200
// with the full body). Per file the origin can also misbehave: ignore ranges,
// throttle each response, cut the connection after some bytes a number of
// times, redirect, answer an error status, change content (Add again), send
// the body without a length (chunked), or be a new version on every
// response while ignoring If-Range (Unstable).
//
// Failures to start are fatal to the test (New) or panic (NewServer); a
// malformed File.Path panics in Add. Serving never fails loudly: clients see
// the status codes and cut connections they asked for.
package origin

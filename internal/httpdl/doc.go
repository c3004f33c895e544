// Package httpdl is the segmented HTTP(S) download engine. It knows nothing
// of actors or Telegram: it turns a URL into a complete file in a directory.
//
// # API
//
// New(Options) returns a Downloader; Downloader.Download(ctx, Request)
// receives a URL, a working directory and an optional name override, emits
// Progress snapshots through a callback (about four a second and one at the
// end), and returns a Result (path, name, size, bytes reused by a resume).
// SanitizeName makes any untrusted string a safe single path element.
//
// # How a download runs
//
// A probe GET with "Range: bytes=0-0" (not HEAD, which CDNs answer
// differently) decides the mode and the name. A declared size is admitted
// before any file is created or any space reserved: it must not exceed
// Request.MaxSize, nor the free space minus Options.MinFreeDisk. 206 with a
// total in Content-Range means ranges: the file is split into segments
// (Options.SegmentSize) fetched by up to Options.Connections workers into a
// preallocated "<name>.part" file with pwrite. Every ranged request carries
// If-Range with the strong ETag (never a weak one), else the Last-Modified
// date, and its answer must be 206 with exactly the Content-Range asked for,
// exactly that many body bytes, and no other ETag or Last-Modified than the
// probe saw (a server that ignores If-Range would splice another version in). 200 to
// the probe (range ignored, or unknown size) means one stream that cannot be
// resumed; Request.MaxSize then holds on the bytes received. Redirects are
// followed by the client; segments use the probe's final URL, and a 403 or
// 410 on a segment re-probes the original URL once per call.
//
// A ranged download keeps a JSON control file ".<name>.httpdl" next to the
// .part file (written to a temporary file, fsynced, renamed), at least once
// a second and when the call ends, after fdatasync of the data it vouches
// for (the cursors are read before that sync, so a checkpoint never claims
// bytes that were not durable).
// A later call reuses the .part file only when the control file names the
// same URL, size and validator; otherwise it starts over. Downloads without
// a validator never resume. On completion the .part file is synced with
// fdatasync and renamed to the final name and the control file is deleted,
// so a file under its final name is always complete. On Linux each
// connection starts the writeback of every 8 MiB it wrote with
// sync_file_range(2), so the disk writes while the network reads and the
// syncs find little dirty data (elsewhere this hint is a no-op).
//
// The output name is the override when given, else the Content-Disposition
// filename (RFC 5987 filename* wins over filename), else the unescaped last
// path segment of the final URL, else "download", always through
// SanitizeName.
//
// # Concurrency and resources
//
// Download blocks until the file is complete or the call failed; all its
// goroutines have ended when it returns. A Downloader may run several
// downloads at once, but two calls must not share a directory and name.
// Memory is constant: one pooled 256 KiB buffer per connection; files are
// never read into memory.
//
// # Failures
//
// Errors are wrapped with %w; the supervisor classifies them with errors.Is
// and errors.As:
//
//   - *StatusError: an unexpected HTTP status. Temporary() is true for 5xx,
//     408, 425 and 429 (transient); every other status is permanent. 429 and
//     503 carry RetryAfter from the Retry-After header.
//   - ErrRemoteChanged: the remote file changed during the download (200 or
//     416 to a ranged request, another total or validator, or a re-probe
//     that found another file). Partial data and control file are deleted
//     and the call starts over from byte 0 once, with a fresh probe; the
//     error is returned when the file changes again, so it is permanent
//     for the caller.
//   - *TooLargeError: the file is larger than Request.MaxSize, declared or
//     received (permanent). Nothing is reserved for a declared size over
//     the limit; received bytes are deleted.
//   - *NoRoomError: the declared size does not fit in the free space minus
//     Options.MinFreeDisk (permanent for this call); nothing was reserved.
//   - ErrSizeMismatch: a body shorter or longer than declared (transient; a
//     cut connection, which also leaves io.ErrUnexpectedEOF reachable).
//   - ErrStalled: no headers or body bytes for Options.StallTimeout
//     (transient).
//   - ErrBadResponse: a server that breaks range semantics, such as a wrong
//     Content-Range (permanent for this URL).
//   - Network errors (transient) keep net.Error reachable through
//     errors.As; the *url.Error layer is removed because its message would
//     repeat query tokens.
//   - The caller's cancellation returns ctx.Err() wrapped; a ranged download
//     leaves its .part and control files for the next call.
//   - Local disk errors are permanent for the call and keep their cause
//     reachable, e.g. errors.Is(err, syscall.ENOSPC). Preallocation with
//     fallocate(2), of an admitted size only, makes a full disk fail at the
//     start.
//
// Transient failures of one segment are retried inside the call
// (Options.SegmentRetries, from the bytes already written); the whole call
// is retried by the caller. A single-stream download retries from byte 0.
// The engine does not panic and logs no URL query strings or userinfo.
package httpdl

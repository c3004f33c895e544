// Package archive is mirrorleech's archive engine: it zips a result (Zip)
// and unpacks archives (Extract), in pure Go, safely against hostile input.
// It knows nothing of actors or Telegram; actors/archive drives it.
//
// # API
//
// Zip(ctx, src, dst, ZipOptions) writes a file or a folder as one zip,
// deflated with klauspost/compress/flate (files that are compressed
// already, by extension or by a 64 KiB probe, are stored), Zip64 past
// 4 GiB, and with a password WinZip AES-256 (AE-2) written here on top of
// archive/zip's CreateRaw. It streams: the only copy on disk is the zip
// itself, written to dst+".part" and linked to dst once synced.
//
// Extract(ctx, src, dst, ExtractOptions) unpacks a file, or every archive
// in a folder, into a new folder dst: zip (deflate, bzip2, zstd, xz; WinZip
// AES and ZipCrypto), tar with gz/bz2/xz/zst or none, single gz/bz2/xz/zst
// files, 7z (bodgit/sevenzip) and RAR 1.5-7 (nwaples/rardecode/v2),
// multi-volume sets (.7z.001, .zip.001, .partN.rar, .rar/.r00) grouped and
// opened once. Archives found inside archives are left as they are.
// IsArchive tells by name whether Extract would treat a file as an archive;
// SanitizeName is the entry-name policy, exported for the fuzz tests and
// for callers that show names.
//
// Progress callbacks get the input bytes processed and the total, about
// four times a second and once at the end.
//
// # Safety
//
// Every write of Extract goes through an os.Root on dst. Entry names are
// normalised (\ to /, ./ and empty parts dropped); names with NUL, .., a
// leading / or a drive letter are refused (the entry is skipped, the rest
// extracted, and the skip counted by reason in ExtractResult.Skipped, whose
// String is meant for the user); invalid UTF-8, control characters, Windows
// device names (CON, NUL, COM1, …) and trailing dots and spaces are replaced
// or prefixed, and components over 255 bytes shortened keeping their
// extension. Legacy zip names (not UTF-8) are decoded as IBM 437, the zip
// specification's encoding. Symbolic and hard links, devices, fifos and
// sockets are never created (skipped and counted likewise). Files get mode
// 0644, or 0755 when any x bit was set (no setuid, sticky or world-writable
// bits). Files are created with O_EXCL: a duplicate name is written as "name
// (2).ext", never over the first.
//
// Limits count bytes actually written, never the sizes an archive claims:
// Limits.MaxTotal per extraction, MaxFile per file, MaxEntries, and MaxRatio
// (output per byte of archive, with a 1 MiB allowance per archive). Claims
// are still checked first, so a zip or 7z that admits to being too large
// fails before a byte is written. Decoder memory is capped at 256 MiB of
// dictionary (MaxDictionary), because the decoders' defaults let an archive
// of a few bytes demand gigabytes (rardecode/v2 allows RAR5 dictionaries of
// 4 GiB): rardecode's MaxDictionarySize, zstd's window, a guard that parses
// the .xz container ahead of ulikunitz/xz (which allocates whatever a block
// header declares), and LZMA/LZMA2 decoders registered for 7z in place of
// bodgit/sevenzip's own (sevenzip's registry is process-wide; this package
// is its only user).
//
// # Failures
//
// Errors wrap one of the sentinels, whose text is written for users:
// ErrPasswordRequired, ErrWrongPassword, ErrLimit (as a *LimitError naming
// the limit), ErrNotArchive (no archive in the source, or a file named
// .zip that is not one), ErrCorrupt (truncated or damaged) and
// ErrUnsupported (a method, an encryption or a split format this package
// cannot read). Archive failures are *Error values: the archive's name, the
// sentinel, a short detail, the entry; the library error behind them is
// kept in Err for logs but not unwrapped, so that an io.ErrUnexpectedEOF in
// a truncated file is not mistaken for a network error. Errors of the local
// disk (ENOSPC, EIO) are returned wrapped as they are. When ctx ends the
// error is ctx.Err(). On any error Extract removes dst and Zip removes its
// .part file; neither leaves partial output behind.
//
// # Concurrency
//
// Calls are independent and may run in parallel on different outputs. Each
// call works in its own goroutine and starts none that outlive it.
// Extract flushes its output with one syncfs(2) before returning (on Linux),
// Zip fsyncs the zip and its folder: callers may delete the source as soon
// as either returns.
package archive

// Command archive-run zips or extracts once with the internal/archive
// engine, for the archive benchmark in tests/bench/archive_test.go, which
// runs it as a child process so that its CPU time is measured alone. It is
// not used by the tests.
//
//	archive-run zip [-password P] [-level N] [-nostore] [-stdlib] SRC DST.zip
//	archive-run extract [-password P] SRC DST
//
// zip -stdlib writes the zip with archive/zip and compress/flate at their
// defaults instead (the reference the engine's klauspost/compress is
// measured against). It prints nothing on success and exits non-zero with
// the error on failure.
package main

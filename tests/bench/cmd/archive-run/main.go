package main

import (
	"archive/zip"
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/mirrorleech/mirrorleech/internal/archive"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "archive-run:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return fmt.Errorf("usage: archive-run zip|extract [flags] SRC DST")
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ContinueOnError)
	password := fl.String("password", "", "password (AES-256 for zip)")
	level := fl.Int("level", 0, "deflate level 1-9 (default: the engine's)")
	noStore := fl.Bool("nostore", false, "deflate every file, even compressed-looking ones")
	stdlib := fl.Bool("stdlib", false, "zip with archive/zip and compress/flate defaults instead")
	if err := fl.Parse(os.Args[2:]); err != nil {
		return err
	}
	if fl.NArg() != 2 {
		return fmt.Errorf("want SRC and DST")
	}
	src, dst := fl.Arg(0), fl.Arg(1)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch os.Args[1] {
	case "zip":
		if *stdlib {
			return stdlibZip(src, dst)
		}
		_, err := archive.Zip(ctx, src, dst, archive.ZipOptions{Password: *password, Level: *level, NoStore: *noStore})
		return err
	case "extract":
		_, err := archive.Extract(ctx, src, dst, archive.ExtractOptions{Password: *password,
			Limits: archive.Limits{MaxEntries: 1 << 20}})
		return err
	}
	return fmt.Errorf("unknown command %q", os.Args[1])
}

// stdlibZip zips src the plain standard library way: every file deflated
// with compress/flate's default level, then fsynced like the engine's zip.
func stdlibZip(src, dst string) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	base := filepath.Dir(src)
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate})
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		_, err = io.Copy(w, in)
		return err
	})
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/config"
	"github.com/mirrorleech/mirrorleech/internal/httpdl"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httpdl-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	conns := flag.Int("c", httpdl.DefaultConnections, "parallel connections")
	seg := flag.String("seg", "8MiB", "segment size")
	out := flag.String("o", ".", "output directory")
	name := flag.String("n", "", "output file name (default: from the server)")
	hash := flag.Bool("sha256", true, "print the SHA-256 of the result (after the timed download)")
	verbose := flag.Bool("v", false, "log retries and resume decisions to standard error")
	flag.Parse()
	if flag.NArg() != 1 {
		return fmt.Errorf("usage: httpdl-bench [flags] URL")
	}
	segSize, err := config.ParseSize(*seg)
	if err != nil {
		return fmt.Errorf("parsing -seg: %w", err)
	}
	var log *slog.Logger
	if *verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := httpdl.New(httpdl.Options{Connections: *conns, SegmentSize: segSize, Logger: log})
	start := time.Now()
	res, err := d.Download(ctx, httpdl.Request{URL: flag.Arg(0), Dir: *out, Name: *name})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	fmt.Printf("name=%s\nsize=%d\nresumed=%d\nseconds=%.3f\nmbps=%.1f\n",
		res.Name, res.Size, res.Resumed, elapsed.Seconds(), float64(res.Size)/1e6/elapsed.Seconds())
	if !*hash {
		return nil
	}
	f, err := os.Open(res.Path)
	if err != nil {
		return fmt.Errorf("opening result: %w", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hashing result: %w", err)
	}
	fmt.Printf("sha256=%s\n", hex.EncodeToString(h.Sum(nil)))
	return nil
}

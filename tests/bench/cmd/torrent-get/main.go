package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mirrorleech/mirrorleech/internal/torrent"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "torrent-get:", err)
		os.Exit(1)
	}
}

type peers []string

func (p *peers) String() string     { return strings.Join(*p, ",") }
func (p *peers) Set(v string) error { *p = append(*p, v); return nil }

func run() error {
	if err := torrent.EnsureClassicFileIO(); err != nil {
		return err
	}
	torrentFile := flag.String("torrent", "", "the .torrent file")
	magnet := flag.String("magnet", "", "a magnet link (instead of -torrent)")
	out := flag.String("o", "", "output directory (required)")
	trackers := flag.Bool("trackers", false, "announce to the torrent's trackers")
	verbose := flag.Bool("v", false, "log at Info and print progress every second")
	var extra peers
	flag.Var(&extra, "peer", "a peer host:port (repeatable)")
	flag.Parse()
	if *out == "" || (*torrentFile == "") == (*magnet == "") {
		return errors.New("usage: torrent-get (-torrent FILE | -magnet URI) -o DIR [-peer HOST:PORT] [-trackers]")
	}
	req := torrent.Request{Magnet: *magnet, Dir: *out, Peers: extra}
	if *torrentFile != "" {
		b, err := os.ReadFile(*torrentFile)
		if err != nil {
			return err
		}
		req.MetaInfo = b
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	c, err := torrent.New(torrent.Config{
		ListenHost: "127.0.0.1", NoDHT: true, DisablePEX: true, DisableTrackers: !*trackers,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if *verbose {
		var last time.Time
		req.Progress = func(p torrent.Progress) {
			if time.Since(last) >= time.Second {
				last = time.Now()
				fmt.Fprintf(os.Stderr, "%6.1fs %s done=%d/%d received=%d peers=%d seeders=%d\n",
					time.Since(start).Seconds(), p.Phase, p.Done, p.Total, p.Downloaded, p.Peers, p.Seeders)
			}
		}
	}
	res, err := c.Download(ctx, req)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("path=%s\nsize=%d\nseconds=%.3f\nmbps=%.1f\n", res.Path, res.Size, secs, float64(res.Size)/1e6/secs)
	return nil
}

package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mirrorleech/mirrorleech/internal/config"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
	"github.com/mirrorleech/mirrorleech/internal/torrent/swarm"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "torrent-seed:", err)
		os.Exit(1)
	}
}

func run() error {
	if err := torrent.EnsureClassicFileIO(); err != nil {
		return err
	}
	dir := flag.String("dir", "", "work directory (required)")
	sizeFlag := flag.String("size", "512MiB", "payload size")
	seed := flag.Uint64("seed", 1, "ChaCha8 seed of the payload")
	name := flag.String("name", "bench.bin", "file name")
	pieceFlag := flag.String("piece", "1MiB", "piece length")
	announce := flag.String("announce", "", "tracker URL to write into the .torrent and announce to")
	rateFlag := flag.String("rate", "0", "upload limit in bytes per second (0: none)")
	flag.Parse()
	if *dir == "" {
		return errors.New("-dir is required")
	}
	size, err := config.ParseSize(*sizeFlag)
	if err != nil {
		return fmt.Errorf("-size: %w", err)
	}
	piece, err := config.ParseSize(*pieceFlag)
	if err != nil {
		return fmt.Errorf("-piece: %w", err)
	}
	limit, err := config.ParseSize(*rateFlag)
	if err != nil {
		return fmt.Errorf("-rate: %w", err)
	}
	parent := filepath.Join(*dir, "seed")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	data := filepath.Join(parent, *name)
	sum, err := payload(data, size, *seed)
	if err != nil {
		return err
	}
	mi, err := swarm.BuildMetaInfo(data, piece, *announce)
	if err != nil {
		return err
	}
	torrentFile := filepath.Join(*dir, "bench.torrent")
	if err := os.WriteFile(torrentFile, mi, 0o644); err != nil {
		return err
	}
	s, err := swarm.Seed(mi, parent, limit)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("addr=%s\ntorrent=%s\nname=%s\nsize=%d\nsha256=%s\nmagnet=%s\nready\n",
		s.Addr, torrentFile, s.Name, s.Size, sum, s.Magnet)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-stop:
	case <-eof:
	}
	fmt.Printf("uploaded=%d\n", s.Uploaded())
	return nil
}

// payload makes sure path holds size bytes of the seed's ChaCha8 stream and
// returns their SHA-256, kept in path.sha256 so later runs skip the work.
func payload(path string, size int64, seed uint64) (string, error) {
	shaFile := path + ".sha256"
	tag := fmt.Sprintf("%d %d ", size, seed)
	if fi, err := os.Stat(path); err == nil && fi.Size() == size {
		if b, err := os.ReadFile(shaFile); err == nil && strings.HasPrefix(string(b), tag) {
			return strings.TrimSpace(strings.TrimPrefix(string(b), tag)), nil
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, swarm.NewRandomReader(seed), size); err != nil {
		f.Close()
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.WriteFile(shaFile, []byte(tag+sum+"\n"), 0o644); err != nil {
		return "", err
	}
	return sum, nil
}

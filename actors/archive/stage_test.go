package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	kflate "github.com/klauspost/compress/flate"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/archive"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/supervision"
)

const waitFor = 30 * time.Second

type stopChild struct{}

// parent is a fake task: it spawns one stage, supervises it with onFailure
// (or a StageStrategy) and records what the stage tells it.
type parent struct {
	props     *actor.Props
	strategy  *supervision.StageStrategy
	onFailure func(sup actor.Supervisor, child *actor.PID, reason any)
	events    chan any
	child     *actor.PID
}

func (p *parent) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, msg interface{}) {
	if p.onFailure != nil {
		p.events <- reason
		p.onFailure(sup, child, reason)
		return
	}
	p.strategy.HandleFailure(sys, sup, child, rs, reason, msg)
}

func (p *parent) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.child = ctx.Spawn(p.props)
		if p.strategy != nil {
			p.strategy.Track(p.child, messages.StageArchiving)
		}
	case stopChild:
		ctx.Stop(p.child)
	case *messages.StageProgressed, *messages.ArchiveFinished, *messages.StageGaveUp, *messages.StageRetrying,
		*actor.Terminated:
		p.events <- m
	}
}

type harness struct {
	sys    *actor.ActorSystem
	pid    *actor.PID
	events chan any
}

func start(t *testing.T, o Options, job Job, onFailure func(actor.Supervisor, *actor.PID, any)) *harness {
	t.Helper()
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	t.Cleanup(sys.Shutdown)
	h := &harness{sys: sys, events: make(chan any, 1024)}
	p := &parent{props: Props(o, job), onFailure: onFailure, events: h.events,
		strategy: supervision.NewStageStrategy(supervision.Policy{MaxAttempts: 2, InitialDelay: time.Millisecond,
			MaxDelay: time.Millisecond}, nil, nil)}
	h.pid = sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return p }))
	return h
}

// next returns the next event that is not progress, collecting progress.
func (h *harness) next(t *testing.T, progress *[]*messages.StageProgressed) any {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case e := <-h.events:
			if p, ok := e.(*messages.StageProgressed); ok {
				if progress != nil {
					*progress = append(*progress, p)
				}
				continue
			}
			return e
		case <-deadline:
			t.Fatal("the stage said nothing")
			return nil
		}
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return sum(b)
}

// writeZip writes a zip of name → content with the standard library.
func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, b := range files {
		f, err := w.Create(name)
		require.NoError(t, err)
		_, err = f.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func randomish(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestZipStage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "download", "report.bin")
	require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
	body := randomish(3 << 20)
	require.NoError(t, os.WriteFile(in, body, 0o644))
	job := Job{Spec: messages.TaskSpec{ID: "t1", Zip: true, ZipPassword: "s3cret"},
		Input: messages.DownloadFinished{Path: in, Name: "report.bin", Size: int64(len(body))}, Dir: dir}
	h := start(t, Options{}, job, nil)

	var progress []*messages.StageProgressed
	res, ok := h.next(t, &progress).(*messages.ArchiveFinished)
	require.True(t, ok)
	require.Equal(t, "report.bin.zip", res.Name)
	require.True(t, strings.HasPrefix(res.Path, filepath.Join(dir, "archive")+string(filepath.Separator)))
	st, err := os.Stat(res.Path)
	require.NoError(t, err)
	require.Equal(t, st.Size(), res.Size)
	require.NotEmpty(t, progress)
	for _, p := range progress {
		require.Equal(t, messages.StageArchiving, p.Stage)
		require.Equal(t, "zipping", p.Note)
		require.Equal(t, int64(len(body)), p.Total)
	}
	require.FileExists(t, in, "the input is left alone")

	out := filepath.Join(t.TempDir(), "x")
	_, err = archive.Extract(context.Background(), res.Path, out, archive.ExtractOptions{Password: "s3cret"})
	require.NoError(t, err)
	require.Equal(t, sum(body), fileSum(t, filepath.Join(out, "report.bin")))
}

func TestExtractStageDeliversTheOneFolder(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "download", "album.zip")
	require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
	files := map[string][]byte{"album/01.flac": randomish(300_000), "album/notes.txt": []byte("liner notes")}
	writeZip(t, in, files)
	job := Job{Spec: messages.TaskSpec{ID: "t2", Extract: true},
		Input: messages.DownloadFinished{Path: in, Name: "album.zip"}, Dir: dir}
	h := start(t, Options{}, job, nil)
	res, ok := h.next(t, nil).(*messages.ArchiveFinished)
	require.True(t, ok)
	require.Equal(t, "album", res.Name)
	require.Equal(t, int64(300_000+len("liner notes")), res.Size)
	for name, b := range files {
		require.Equal(t, sum(b), fileSum(t, filepath.Join(res.Path, strings.TrimPrefix(name, "album/"))))
	}
	require.FileExists(t, in)
}

func TestExtractThenZip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "download", "album.7z.zip")
	require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
	writeZip(t, in, map[string][]byte{"a.txt": []byte("a"), "b/c.txt": []byte("c")})
	job := Job{Spec: messages.TaskSpec{ID: "t3", Extract: true, Zip: true, Name: "Best Of"},
		Input: messages.DownloadFinished{Path: in, Name: "album.7z.zip"}, Dir: dir}
	h := start(t, Options{}, job, nil)
	res, ok := h.next(t, nil).(*messages.ArchiveFinished)
	require.True(t, ok)
	require.Equal(t, "Best Of.zip", res.Name)
	zr, err := zip.OpenReader(res.Path)
	require.NoError(t, err)
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	require.NoError(t, zr.Close())
	require.ElementsMatch(t, []string{"Best Of/", "Best Of/a.txt", "Best Of/b/", "Best Of/b/c.txt"}, names)
	runs, err := filepath.Glob(filepath.Join(dir, "archive", "run-*", "extract"))
	require.NoError(t, err)
	require.Empty(t, runs, "the extracted tree is removed once zipped")
}

// MAX_TASK_SIZE bounds the extraction of a user's task, on the bytes
// written, but not an owner's or sudo user's; entries left out are
// reported for the final message.
func TestExtractTaskSizeAndSkips(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "download", "mixed.zip")
	require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
	files := map[string][]byte{"a.bin": randomish(1 << 20), "b.bin": randomish(1 << 20), "../../x": []byte("x")}
	writeZip(t, in, files)
	job := Job{Spec: messages.TaskSpec{ID: "t5", Extract: true, Privileged: true},
		Input: messages.DownloadFinished{Path: in, Name: "mixed.zip"}, Dir: dir}
	h := start(t, Options{MaxTaskSize: 1 << 20}, job, nil)
	res, ok := h.next(t, nil).(*messages.ArchiveFinished)
	require.True(t, ok, "the owner is exempt from MAX_TASK_SIZE")
	require.Equal(t, int64(2<<20), res.Size)
	require.Equal(t, "1 entry skipped: unsafe path", res.Warning)
	require.Equal(t, sum(files["a.bin"]), fileSum(t, filepath.Join(res.Path, "a.bin")))
	require.NoFileExists(t, filepath.Join(dir, "x"))
}

func TestArchiveErrorsArePermanentAndReadable(t *testing.T) {
	for _, c := range []struct {
		name, pw, want string
		opts           Options
		files          map[string][]byte
	}{
		{name: "fake.zip", want: "fake.zip: not an archive"},
		{name: "big.zip", want: "(the free disk space)", files: map[string][]byte{"x.bin": randomish(4 << 20)},
			opts: Options{DiskFree: func(string) (int64, int64, error) { return FreeReserve + 1<<20, 1 << 40, nil }}},
		{name: "big2.zip", want: "(MAX_EXTRACT_SIZE, the most one extraction may write)", files: map[string][]byte{"x.bin": randomish(4 << 20)},
			opts: Options{MaxExtract: 1 << 20}},
		{name: "big3.zip", want: "more than 2.0 MiB, the most one extraction may write (MAX_TASK_SIZE, the most one task may hold)",
			files: map[string][]byte{"x.bin": randomish(1 << 20), "y.bin": randomish(1 << 20), "z.bin": randomish(1 << 20)},
			opts:  Options{MaxExtract: 8 << 20, MaxTaskSize: 2 << 20}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "download", c.name)
			require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
			if c.files != nil {
				writeZip(t, in, c.files)
			} else {
				require.NoError(t, os.WriteFile(in, []byte(strings.Repeat("junk ", 500)), 0o644))
			}
			job := Job{Spec: messages.TaskSpec{ID: "t4", Extract: true, ExtractPassword: c.pw},
				Input: messages.DownloadFinished{Path: in, Name: c.name}, Dir: dir}
			h := start(t, c.opts, job, nil)
			// The stage's Terminated may overtake the report (system
			// messages go first), so it is skipped here.
			e := h.next(t, nil)
			if _, stopped := e.(*actor.Terminated); stopped {
				e = h.next(t, nil)
			}
			gave, ok := e.(*messages.StageGaveUp)
			require.True(t, ok, "want StageGaveUp, got %T", e)
			require.Equal(t, 1, gave.Attempts, "permanent: no retry")
			require.Contains(t, gave.Reason, c.want)
			require.NotContains(t, gave.Reason, dir, "no paths in what the user reads")
			runs, err := filepath.Glob(filepath.Join(dir, "archive", "run-*"))
			require.NoError(t, err)
			require.Empty(t, runs, "partial output removed")
		})
	}
}

// bigZip writes a zip of n entries of size zeros each, deflated once and
// stored n times (so the test builds gigabytes of output quickly).
func bigZip(t *testing.T, path string, n int, size int) {
	t.Helper()
	var comp bytes.Buffer
	fw, err := kflate.NewWriter(&comp, kflate.BestSpeed)
	require.NoError(t, err)
	zeros := make([]byte, size)
	_, err = fw.Write(zeros)
	require.NoError(t, err)
	require.NoError(t, fw.Close())
	f, err := os.Create(path)
	require.NoError(t, err)
	w := zip.NewWriter(f)
	crc := crc32.ChecksumIEEE(zeros)
	for i := 0; i < n; i++ {
		fh := &zip.FileHeader{Name: "zeros-" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + ".img", Method: zip.Deflate,
			CRC32: crc, CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(size)}
		wr, err := w.CreateRaw(fh)
		require.NoError(t, err)
		_, err = wr.Write(comp.Bytes())
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
}

func TestStopMidExtractRemovesOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "download", "huge.zip")
	require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
	bigZip(t, in, 64, 64<<20) // 4 GiB of output
	job := Job{Spec: messages.TaskSpec{ID: "t5", Extract: true},
		Input: messages.DownloadFinished{Path: in, Name: "huge.zip"}, Dir: dir}
	h := start(t, Options{StopWait: waitFor, Limits: archive.Limits{MaxRatio: 1e9}}, job, nil)

	select {
	case e := <-h.events:
		p, ok := e.(*messages.StageProgressed)
		require.True(t, ok, "first a progress report, got %T", e)
		require.Equal(t, "extracting", p.Note)
	case <-time.After(waitFor):
		t.Fatal("no progress")
	}
	h.sys.Root.Send(h.pid, stopChild{})
	for {
		e := h.next(t, nil)
		if _, ok := e.(*messages.ArchiveFinished); ok {
			t.Fatal("the extraction finished before the stop: make the archive larger")
		}
		if _, ok := e.(*actor.Terminated); ok {
			break
		}
	}
	// Stopping waited for the worker, which removed its output before it
	// ended: nothing is left.
	ents, err := os.ReadDir(filepath.Join(dir, "archive"))
	require.NoError(t, err)
	require.Empty(t, ents)
	require.FileExists(t, in)
}

func TestRestartStartsOverInACleanFolder(t *testing.T) {
	dir := t.TempDir()
	// Leftovers of an earlier attempt.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "archive", "run-old", "extract", "half"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archive", "run-old", "extract", "half", "a.txt"), []byte("half"), 0o644))
	in := filepath.Join(dir, "download", "set.zip")
	job := Job{Spec: messages.TaskSpec{ID: "t6", Extract: true},
		Input: messages.DownloadFinished{Path: in, Name: "set.zip"}, Dir: dir}
	var once sync.Once
	restarts := 0
	h := start(t, Options{}, job, func(sup actor.Supervisor, child *actor.PID, reason any) {
		// The input appears, and the stage is restarted.
		once.Do(func() {
			require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o755))
			writeZip(t, in, map[string][]byte{"x/1.txt": []byte("one"), "x/2.txt": []byte("two"), "y.txt": []byte("y")})
		})
		restarts++
		sup.RestartChildren(child)
	})
	reason := h.next(t, nil)
	require.NotNil(t, reason, "the first attempt failed")
	res, ok := h.next(t, nil).(*messages.ArchiveFinished)
	require.True(t, ok)
	require.Equal(t, 1, restarts)
	require.Equal(t, "set", res.Name)
	require.Equal(t, sum([]byte("two")), fileSum(t, filepath.Join(res.Path, "x/2.txt")))
	ents, err := os.ReadDir(filepath.Join(dir, "archive"))
	require.NoError(t, err)
	require.Len(t, ents, 1, "only this attempt's folder")
	require.NotEqual(t, "run-old", ents[0].Name())
}

package download

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/internal/httpdl"
	"github.com/mirrorleech/mirrorleech/internal/tgapi"
	"github.com/mirrorleech/mirrorleech/internal/torrent"
	"github.com/mirrorleech/mirrorleech/messages"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

const chatID = 42

// telegramJob posts data as a document to the fake Bot API and returns the
// engine and a job for it.
func telegramJob(t *testing.T, name string, data []byte) (*Telegram, Job) {
	t.Helper()
	tg := tgfake.New(t, tgfake.Options{})
	c, err := tgapi.New(tgapi.Options{Token: tg.Token(), APIURL: tg.URL()})
	require.NoError(t, err)
	doc := tg.PushDocument(chatID, chatID, name, data, "").Document
	spec := messages.TaskSpec{ID: "t1", Source: messages.Source{File: &messages.TelegramFile{
		FileID: doc.FileID, Name: name, Size: doc.FileSize}}}
	return &Telegram{Client: c}, Job{Spec: spec, Dir: t.TempDir()}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// The limit holds on the bytes that arrive, whatever size was declared: the
// stage checks the declared size, the engine what it receives.
func TestTelegramMaxSizeOnReceivedBytes(t *testing.T) {
	eng, job := telegramJob(t, "big.bin", make([]byte, 3<<20))
	job.MaxSize = 1 << 20
	_, err := eng.Fetch(testCtx(t), job, func(Progress) {})
	var tl *httpdl.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, int64(1<<20), tl.Limit)
	require.Empty(t, entries(t, job.Dir), "the partial data is removed")

	job.MaxSize = 3 << 20
	res, err := eng.Fetch(testCtx(t), job, func(Progress) {})
	require.NoError(t, err)
	require.Equal(t, int64(3<<20), res.Size)
}

// A name of the longest legal length still has a temporary name the file
// system accepts.
func TestTelegramLongName(t *testing.T) {
	name := strings.Repeat("я", 150) + ".mkv" // 304 bytes, cut to 255
	eng, job := telegramJob(t, name, []byte("some data"))
	res, err := eng.Fetch(testCtx(t), job, func(Progress) {})
	require.NoError(t, err)
	require.LessOrEqual(t, len(res.Name), 255)
	require.Greater(t, len(res.Name), 250)
	require.True(t, strings.HasSuffix(res.Name, ".mkv"))
	require.Equal(t, []string{res.Name}, entries(t, job.Dir))
}

// A torrent over the limit is refused when its file list is known, before
// any piece is requested; the user's selection (-s) is what counts.
func TestTorrentSizeCheckedAtMetadata(t *testing.T) {
	files := []torrent.File{{Index: 0, Path: "a", Size: 600}, {Index: 2, Path: "b", Size: 500}}
	job := Job{MaxSize: 1000}
	_, err := choose(context.Background(), job, files)
	var tl *httpdl.TooLargeError
	require.ErrorAs(t, err, &tl)
	require.Equal(t, &httpdl.TooLargeError{Size: 1100, Limit: 1000}, tl)

	job.Spec.Select = true
	job.Choose = func(context.Context, []messages.TorrentFile) ([]int, error) { return []int{2, 2}, nil }
	picked, err := choose(context.Background(), job, files)
	require.NoError(t, err)
	require.Equal(t, []int{2, 2}, picked)

	job = Job{} // owner and sudo: no limit
	picked, err = choose(context.Background(), job, files)
	require.NoError(t, err)
	require.Equal(t, []int{0, 2}, picked)
}

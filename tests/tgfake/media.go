package tgfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// urlFetchLimit is the largest file Telegram downloads from an HTTP URL for
// a non-photo send.
const urlFetchLimit = 20 << 20

// fileRecord is a file known to the fake under a file_id.
type fileRecord struct {
	id     string
	unique string
	name   string
	mime   string
	size   int64
	sha    string
	// disk holds the content; rel is the cloud file_path (and the key of
	// /file/ downloads); localPath, when set, is the local-mode file_path
	// (a file:// upload keeps its own path).
	disk      string
	rel       string
	localPath string
}

// registerLocked gives rec a file_id and makes it retrievable.
func (s *Server) registerLocked(rec *fileRecord) *fileRecord {
	n := len(s.files) + 1
	rec.id = fmt.Sprintf("BQACAgIAAxkBAAIC%06dZmFrZS1maWxlLWlk", n)
	rec.unique = fmt.Sprintf("AgADf%05d", n)
	s.files[rec.id] = rec
	if rec.rel != "" {
		s.cloudPaths[rec.rel] = rec
	}
	return rec
}

func (r *fileRecord) document() *Document {
	return &Document{FileID: r.id, FileUniqueID: r.unique, FileName: r.name, MimeType: r.mime, FileSize: r.size}
}

// filePath is what getFile answers: a relative path in cloud mode, an
// absolute one in local mode.
func (s *Server) filePath(r *fileRecord) string {
	if !s.opts.Local {
		return r.rel
	}
	if r.localPath != "" {
		return r.localPath
	}
	return r.disk
}

// kindDir is the folder Telegram files a media kind under.
func kindDir(kind string) string {
	switch kind {
	case "video":
		return "videos"
	case "audio":
		return "music"
	case "animation":
		return "animations"
	}
	return "documents"
}

// safeExt keeps a short alphanumeric extension of name for the stored path.
func safeExt(name string) string {
	ext := filepath.Ext(name)
	if len(ext) < 2 || len(ext) > 10 {
		return ""
	}
	for _, c := range ext[1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return ext
}

func mimeOf(name string) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

// newStoredPath reserves the next stored file path for kind.
func (s *Server) newStoredPath(kind, name string) (rel, disk string, err error) {
	s.mu.Lock()
	s.nextFile++
	n := s.nextFile
	s.mu.Unlock()
	rel = fmt.Sprintf("%s/file_%d%s", kindDir(kind), n, safeExt(name))
	disk = filepath.Join(s.dir, "files", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(disk), 0o755); err != nil {
		return "", "", fmt.Errorf("creating the file folder: %w", err)
	}
	return rel, disk, nil
}

func storageError(err error) *apiError {
	return &apiError{code: http.StatusInternalServerError, desc: "Internal Server Error: " + err.Error()}
}

// adopt moves an uploaded part into the file store.
func (s *Server) adopt(u *upload, kind string) (*fileRecord, *apiError) {
	if u.size == 0 {
		return nil, badRequest("file must be non-empty")
	}
	rel, disk, err := s.newStoredPath(kind, u.name)
	if err != nil {
		return nil, storageError(err)
	}
	if err := os.Rename(u.path, disk); err != nil {
		return nil, storageError(fmt.Errorf("storing the upload: %w", err))
	}
	u.adopted = true
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerLocked(&fileRecord{name: u.name, mime: mimeOf(u.name), size: u.size, sha: u.sha, disk: disk, rel: rel}), nil
}

// resolveFile finds the file of a send: an uploaded part (the field itself
// or attach://name), a file:// path (local mode), an HTTP URL Telegram
// downloads, or a file_id.
func (s *Server) resolveFile(ctx context.Context, rq *request, kind string) (*fileRecord, *apiError) {
	if u := rq.uploads[kind]; u != nil {
		return s.adopt(u, kind)
	}
	v := strings.TrimSpace(rq.params[kind])
	lower := strings.ToLower(v)
	switch {
	case v == "":
		return nil, badRequest("there is no %s in the request", kind)
	case strings.HasPrefix(v, "attach://"):
		u := rq.uploads[strings.TrimPrefix(v, "attach://")]
		if u == nil {
			return nil, badRequest("wrong file identifier/HTTP URL specified")
		}
		return s.adopt(u, kind)
	case strings.HasPrefix(lower, "file:"):
		if !s.opts.Local {
			return nil, badRequest("wrong remote file identifier specified: Wrong character in the string")
		}
		return s.adoptLocal(v, kind)
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		return s.fetchURL(ctx, v, kind)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.files[v]
	if rec == nil {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	return rec, nil
}

// adoptLocal takes a file:///abs/path upload of a local server. The content
// is linked (or copied) into the store so that SentDocument.Path survives
// the bot deleting its file; getFile answers the original path.
func (s *Server) adoptLocal(v, kind string) (*fileRecord, *apiError) {
	u, err := url.Parse(v)
	if err != nil || u.Host != "" || !filepath.IsAbs(u.Path) {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	src := filepath.FromSlash(u.Path)
	st, err := os.Stat(src)
	if err != nil || !st.Mode().IsRegular() {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	s.mu.Lock()
	limit := s.uploadLimit
	s.mu.Unlock()
	if limit > 0 && st.Size() > limit {
		return nil, badRequest("file is too big")
	}
	if st.Size() == 0 {
		return nil, badRequest("file must be non-empty")
	}
	rel, disk, err := s.newStoredPath(kind, src)
	if err != nil {
		return nil, storageError(err)
	}
	if err := os.Link(src, disk); err != nil {
		if err := copyFile(src, disk); err != nil {
			return nil, storageError(err)
		}
	}
	sum, err := fileSHA256(disk)
	if err != nil {
		return nil, storageError(err)
	}
	name := filepath.Base(src)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerLocked(&fileRecord{name: name, mime: mimeOf(name), size: st.Size(), sha: sum,
		disk: disk, rel: rel, localPath: src}), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copying %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", dst, err)
	}
	return nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// urlTypeAllowed is Telegram's rule for files sent by URL: documents only as
// PDF, GIF or ZIP, videos as MP4, audio as MP3 (M4A), animations as GIF or MP4.
func urlTypeAllowed(kind, mediaType string) bool {
	switch kind {
	case "document":
		return mediaType == "application/pdf" || mediaType == "image/gif" || mediaType == "application/zip"
	case "video":
		return mediaType == "video/mp4"
	case "audio":
		return mediaType == "audio/mpeg" || mediaType == "audio/mp3" || mediaType == "audio/mp4"
	case "animation":
		return mediaType == "image/gif" || mediaType == "video/mp4"
	}
	return false
}

// fetchURL downloads a file sent by HTTP URL, as Telegram's servers do.
func (s *Server) fetchURL(ctx context.Context, link, kind string) (*fileRecord, *apiError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	resp, err := s.fetcher.Do(req)
	if err != nil {
		return nil, badRequest("failed to get HTTP URL content")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, badRequest("failed to get HTTP URL content")
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !urlTypeAllowed(kind, mediaType) {
		return nil, badRequest("wrong type of the web page content")
	}
	name := path.Base(req.URL.Path)
	if name == "/" || name == "." {
		name = "file"
	}
	u, err := s.storePart(kind, name, &limitReader{r: resp.Body, limit: urlFetchLimit, perFile: true})
	if u != nil && !u.adopted && err != nil {
		_ = os.Remove(u.path)
	}
	if err != nil {
		return nil, badRequest("failed to get HTTP URL content")
	}
	rec, aerr := s.adopt(u, kind)
	if aerr != nil {
		_ = os.Remove(u.path)
	}
	return rec, aerr
}

// mediaHandler implements sendDocument, sendVideo, sendAudio and
// sendAnimation; kind is also the name of the file parameter.
func mediaHandler(kind string) handler {
	return func(s *Server, ctx context.Context, rq *request) (any, *apiError) {
		return s.sendMedia(ctx, rq, kind)
	}
}

func (s *Server) sendMedia(ctx context.Context, rq *request, kind string) (any, *apiError) {
	f, aerr := format(rq.params["caption"], rq.params["parse_mode"], rq.params["caption_entities"])
	if aerr != nil {
		return nil, aerr
	}
	if utf16Len(f.plain) > maxCaptionLen {
		return nil, badRequest("message caption is too long")
	}
	mk, aerr := checkMarkup(rq.params["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	replyTo, allowWithout, aerr := replyTarget(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	c, aerr := s.chatLocked(rq)
	if aerr == nil {
		aerr = checkReplyLocked(c, replyTo, allowWithout)
	}
	s.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}
	rec, aerr := s.resolveFile(ctx, rq, kind)
	if aerr != nil {
		return nil, aerr
	}
	width, _ := rq.intParam("width", 0)
	height, _ := rq.intParam("height", 0)
	duration, _ := rq.intParam("duration", 0)

	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.appendLocked(c, s.botUser(), true)
	setReplyLocked(c, m, replyTo)
	doc := rec.document()
	switch kind {
	case "video":
		doc.Width, doc.Height, doc.Duration = int(width), int(height), int(duration)
		m.msg.Video = doc
	case "audio":
		doc.Duration = int(duration)
		m.msg.Audio = doc
	case "animation":
		doc.Width, doc.Height, doc.Duration = int(width), int(height), int(duration)
		m.msg.Animation = doc
		// Telegram also fills document for animations, for old clients.
		d := *rec.document()
		m.msg.Document = &d
	default:
		m.msg.Document = doc
	}
	m.setCaption(f)
	m.setMarkup(mk)
	m.media = &SentDocument{Kind: kind, MessageID: m.msg.MessageID, FileName: rec.name, MimeType: rec.mime,
		Size: rec.size, SHA256: rec.sha, Path: rec.disk, FileID: rec.id}
	s.notifyLocked()
	return m.msg.clone(), nil
}

func (s *Server) getFile(_ context.Context, rq *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.files[rq.params["file_id"]]
	if rec == nil {
		return nil, badRequest("invalid file_id")
	}
	if s.downloadLimit > 0 && rec.size > s.downloadLimit {
		return nil, badRequest("file is too big")
	}
	return File{FileID: rec.id, FileUniqueID: rec.unique, FileSize: rec.size, FilePath: s.filePath(rec)}, nil
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// serveFile serves GET /file/bot<token>/<file_path> in cloud mode, with
// ranges. A local server does not serve files (404): bots read file_path.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	call := Call{Method: "file", Time: time.Now(), ContentLength: r.ContentLength,
		TransferEncoding: append([]string(nil), r.TransferEncoding...)}
	token, rel, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/file/bot"), "/")
	call.Params = map[string]string{"file_path": rel}
	notFound := &apiError{code: http.StatusNotFound, desc: "Not Found"}
	switch {
	case s.opts.Local:
		s.answer(w, &call, nil, notFound)
		return
	case token != s.token:
		s.answer(w, &call, nil, &apiError{code: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		s.answer(w, &call, nil, notFound)
		return
	}
	s.mu.Lock()
	rec := s.cloudPaths[rel]
	limit := s.downloadLimit
	s.mu.Unlock()
	if rec == nil {
		s.answer(w, &call, nil, notFound)
		return
	}
	if limit > 0 && rec.size > limit {
		s.answer(w, &call, nil, badRequest("file is too big"))
		return
	}
	f, err := os.Open(rec.disk)
	if err != nil {
		s.answer(w, &call, nil, notFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.answer(w, &call, nil, storageError(err))
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	http.ServeContent(sw, r, rec.name, st.ModTime(), f)
	call.Status = sw.status
	s.record(&call)
}

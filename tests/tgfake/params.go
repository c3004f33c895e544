package tgfake

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// request is a parsed Bot API call: its parameters and uploaded files.
type request struct {
	params  map[string]string
	uploads map[string]*upload
	list    []*upload
}

// upload is a file part stored on disk while the request is read. Parts a
// handler does not adopt into a message are removed after the call.
type upload struct {
	field   string
	name    string
	size    int64
	sha     string
	path    string
	adopted bool
}

func (rq *request) cleanup() {
	for _, u := range rq.list {
		if !u.adopted {
			_ = os.Remove(u.path)
		}
	}
}

func (rq *request) fileInfos() map[string]FileInfo {
	if len(rq.list) == 0 {
		return nil
	}
	out := make(map[string]FileInfo, len(rq.list))
	for _, u := range rq.list {
		out[u.field] = FileInfo{FileName: u.name, Size: u.size, SHA256: u.sha}
	}
	return out
}

// intParam parses an optional integer parameter; def is used when absent.
func (rq *request) intParam(name string, def int64) (int64, *apiError) {
	v, ok := rq.params[name]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, badRequest("parameter \"%s\" must be a number", name)
	}
	return n, nil
}

// boolParam reads a boolean the way TDLib does: "true" or "1".
func (rq *request) boolParam(name string) bool {
	v := strings.ToLower(strings.TrimSpace(rq.params[name]))
	return v == "true" || v == "1"
}

// tooLargeError reports a body or file over the upload limit.
type tooLargeError struct {
	read    int64
	perFile bool
}

func (e *tooLargeError) Error() string {
	if e.perFile {
		return fmt.Sprintf("Request Entity Too Large: file of size %d is too big to be uploaded", e.read)
	}
	return "Request Entity Too Large"
}

// limitReader fails with a *tooLargeError as soon as more than limit bytes
// were read, so an oversized upload is refused while it streams.
type limitReader struct {
	r       io.Reader
	n       int64
	limit   int64
	perFile bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.limit > 0 && l.n > l.limit {
		return n, &tooLargeError{read: l.n, perFile: l.perFile}
	}
	return n, err
}

// parseRequest collects the parameters from the query string and the body
// (urlencoded, JSON or multipart, optionally gzip-compressed). File parts
// are streamed to disk while hashed. The returned request is never nil, so
// its cleanup can always be deferred.
func (s *Server) parseRequest(r *http.Request) (*request, *apiError) {
	rq := &request{params: map[string]string{}, uploads: map[string]*upload{}}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			rq.params[k] = v[0]
		}
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return rq, nil
	}
	s.mu.Lock()
	limit := s.uploadLimit
	s.mu.Unlock()
	var body io.Reader = r.Body
	if !s.opts.Local {
		// The cloud front end limits the whole request body; a declared
		// length over the limit is refused before anything is read.
		if r.ContentLength > limit && limit > 0 {
			return rq, &apiError{code: http.StatusRequestEntityTooLarge, desc: "Request Entity Too Large"}
		}
		body = &limitReader{r: body, limit: limit}
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return rq, badRequest("can't decode gzip request body")
		}
		defer zr.Close()
		body = zr
	}
	mediaType, mtParams, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mediaType {
	case "application/json":
		err = parseJSONBody(body, rq)
	case "application/x-www-form-urlencoded":
		err = parseFormBody(body, rq)
	case "multipart/form-data":
		err = s.parseMultipart(body, mtParams["boundary"], limit, rq)
	}
	var tooLarge *tooLargeError
	switch {
	case err == nil:
		return rq, nil
	case errors.As(err, &tooLarge):
		return rq, &apiError{code: http.StatusRequestEntityTooLarge, desc: tooLarge.Error()}
	default:
		var aerr *apiErrorValue
		if errors.As(err, &aerr) {
			return rq, aerr.e
		}
		return rq, badRequest("can't read the request: %v", err)
	}
}

// apiErrorValue carries an *apiError through an error return.
type apiErrorValue struct{ e *apiError }

func (v *apiErrorValue) Error() string { return v.e.desc }

func readParamsBody(body io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, maxParamsBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if len(b) > maxParamsBody {
		return nil, &tooLargeError{read: int64(len(b))}
	}
	return b, nil
}

// parseJSONBody keeps string values as they are and any other value as its
// JSON text, the way telego's multipart encoding sends them.
func parseJSONBody(body io.Reader, rq *request) error {
	b, err := readParamsBody(body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return &apiErrorValue{badRequest("can't parse JSON object")}
	}
	for k, raw := range obj {
		raw = bytes.TrimSpace(raw)
		switch {
		case bytes.Equal(raw, []byte("null")):
		case len(raw) > 0 && raw[0] == '"':
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return &apiErrorValue{badRequest("can't parse JSON object")}
			}
			rq.params[k] = v
		default:
			rq.params[k] = string(raw)
		}
	}
	return nil
}

func parseFormBody(body io.Reader, rq *request) error {
	b, err := readParamsBody(body)
	if err != nil {
		return err
	}
	vals, err := url.ParseQuery(string(b))
	if err != nil {
		return &apiErrorValue{badRequest("can't parse urlencoded body")}
	}
	for k, v := range vals {
		if len(v) > 0 {
			rq.params[k] = v[0]
		}
	}
	return nil
}

// parseMultipart streams each part: fields into params, files to disk with
// their SHA-256. In local mode each file is limited on its own, as TDLib's
// HTTP reader does.
func (s *Server) parseMultipart(body io.Reader, boundary string, limit int64, rq *request) error {
	if boundary == "" {
		return &apiErrorValue{badRequest("can't parse multipart body: no boundary")}
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the next part: %w", err)
		}
		_, disp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if err != nil || disp["name"] == "" {
			_ = part.Close()
			continue
		}
		field := disp["name"]
		filename, isFile := disp["filename"]
		if !isFile {
			b, err := readParamsBody(part)
			if err != nil {
				return err
			}
			rq.params[field] = string(b)
			continue
		}
		var src io.Reader = part
		if s.opts.Local {
			src = &limitReader{r: part, limit: limit, perFile: true}
		}
		u, err := s.storePart(field, filename, src)
		if u != nil {
			rq.list = append(rq.list, u)
			rq.uploads[field] = u
		}
		if err != nil {
			return err
		}
	}
}

// storePart writes one file part to the uploads folder while hashing it.
// On failure the partial file is still returned so that cleanup removes it.
func (s *Server) storePart(field, filename string, src io.Reader) (*upload, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "uploads"), "part-*")
	if err != nil {
		return nil, fmt.Errorf("creating the upload file: %w", err)
	}
	u := &upload{field: field, name: filename, path: f.Name()}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), src)
	u.size = n
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the upload file: %w", cerr)
	}
	if err != nil {
		return u, err
	}
	u.sha = hex.EncodeToString(h.Sum(nil))
	return u, nil
}

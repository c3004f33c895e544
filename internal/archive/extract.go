package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ExtractOptions configures Extract.
type ExtractOptions struct {
	// Password opens encrypted archives (all archives of one extraction
	// share it).
	Password string
	Limits   Limits
	Progress Progress
	// noSync skips the final syncfs(2): the fuzz tests extract thousands
	// of times. Unexported, so that callers always get durable output.
	noSync bool
}

// ExtractResult describes a finished extraction.
type ExtractResult struct {
	Archives int   // archive sets extracted
	Files    int   // files written from archives
	Bytes    int64 // bytes written from archives
	Carried  int   // non-archive files of a folder source carried over
	Skipped  Skips // entries not created, by reason
	Renamed  int   // duplicate names written as "name (n).ext"
}

// Skips counts the entries an extraction did not create, by reason. They
// are left out and the rest is extracted: the caller tells the user.
type Skips struct {
	UnsafePath int // absolute, with .., with NUL or a drive letter
	Link       int // symbolic and hard links
	Special    int // devices, fifos, sockets, unknown types
	Conflict   int // a file where a folder must go, or the reverse
}

// Total returns the number of entries skipped.
func (s Skips) Total() int { return s.UnsafePath + s.Link + s.Special + s.Conflict }

// String says what was skipped in the user's terms, "" when nothing was:
// "1 entry skipped: unsafe path", "3 entries skipped: 2 unsafe paths, 1 link".
func (s Skips) String() string {
	n := s.Total()
	if n == 0 {
		return ""
	}
	var parts []string
	add := func(k int, one, many string) {
		switch {
		case k == 1 && n == 1:
			parts = append(parts, one)
		case k == 1:
			parts = append(parts, "1 "+one)
		case k > 1:
			parts = append(parts, strconv.Itoa(k)+" "+many)
		}
	}
	add(s.UnsafePath, "unsafe path", "unsafe paths")
	add(s.Link, "link", "links")
	add(s.Special, "special file", "special files")
	add(s.Conflict, "name conflict", "name conflicts")
	what := "entries"
	if n == 1 {
		what = "entry"
	}
	return strconv.Itoa(n) + " " + what + " skipped: " + strings.Join(parts, ", ")
}

// entryKind is what an archive entry is.
type entryKind uint8

const (
	kindFile entryKind = iota + 1
	kindDir
	kindLink    // symbolic or hard link: never created
	kindSpecial // device, fifo, socket, unknown: never created
)

// entry is one member of an archive as a format reads it.
type entry struct {
	name  string // as stored (the format has decoded legacy encodings)
	kind  entryKind
	mode  fs.FileMode // permission bits as stored
	mtime time.Time
	open  func() (io.ReadCloser, error) // the content of a kindFile
}

// walker reads the entries of one opened archive, in order. Every format
// family implements it.
type walker interface {
	// next returns the next entry, or io.EOF after the last.
	next() (*entry, error)
	// fail turns an error of next or of an entry's content into an *Error
	// of the right kind (or returns it as is when it is the disk's or the
	// context's).
	fail(err error, entry string) error
	close() error
}

// declarer is a walker that knows the sizes its entries claim before any is
// read (zip, 7z): a claim beyond the limits fails at once.
type declarer interface {
	declared() int64
}

// single is a walker that unpacks to exactly one file (a .gz that is not a
// tar): in a folder it lands beside the archive, not in a folder of its own.
type single interface {
	single() bool
}

// job is one unit of work of an extraction.
type job struct {
	rel   string   // slash path relative to the source ("" for a file source)
	paths []string // the volumes of an archive, or the one carried file
	carry bool
	dir   bool   // a folder to recreate (carry)
	err   error  // a set that cannot be extracted (missing volume, unsupported split)
	name  string // display name
}

// Extract unpacks every archive in src into dst, which must not exist and
// is created. src is a file or a folder searched recursively.
//
// A file source is extracted straight into dst. In a folder source every
// archive (a multi-volume set counts once, opened from its first volume) is
// extracted into a new folder beside it named after it without extensions
// ("a/b.zip" → dst/a/b/, "x (2)" when taken), except a compressed single
// file (.gz, .xz, … that is not a tar), which lands as one file beside it;
// the other files are carried over by hard link (copied when linking is not
// possible) so src stays intact and an extraction can start over. Archives
// inside archives stay as they are.
//
// Entries with unsafe names (absolute, with .., with NUL), links, devices,
// fifos and sockets are skipped and counted; names are sanitised (see
// SanitizeName); duplicates are written as "name (2).ext", never over each
// other. On any error dst is removed; when ctx ends the error is ctx.Err().
// Finished data is flushed to disk (syncfs on Linux) before Extract returns.
func Extract(ctx context.Context, src, dst string, o ExtractOptions) (res ExtractResult, err error) {
	if err := ctx.Err(); err != nil {
		return res, err
	}
	info, err := os.Stat(src)
	if err != nil {
		return res, fmt.Errorf("reading the source: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return res, fmt.Errorf("extracting into %s: %w", filepath.Base(dst), fs.ErrExist)
	}
	var jobs []job
	if info.IsDir() {
		jobs, err = planFolder(src)
	} else {
		jobs, err = planFile(src)
	}
	if err != nil {
		return res, err
	}
	if err := os.Mkdir(dst, 0o755); err != nil {
		return res, fmt.Errorf("creating the output folder: %w", err)
	}
	defer func() {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			os.RemoveAll(dst)
		}
	}()
	root, err := os.OpenRoot(dst)
	if err != nil {
		return res, fmt.Errorf("opening the output folder: %w", err)
	}
	defer root.Close()

	m := &meter{fn: o.Progress}
	for _, j := range jobs {
		if !j.carry {
			for _, p := range j.paths {
				if fi, err := os.Stat(p); err == nil {
					m.total += fi.Size()
				}
			}
		}
	}
	x := &extraction{ctx: ctx, root: root, src: src, fileSrc: !info.IsDir(), pw: o.Password, m: m,
		bud: &budget{lim: o.Limits.withDefaults()}}
	x.sink = newSink(ctx, root, x.bud, &res)
	for _, j := range jobs {
		if j.carry {
			if err := x.carry(j); err != nil {
				return res, err
			}
		}
	}
	for _, j := range jobs {
		if !j.carry {
			if err := x.archive(j); err != nil {
				return res, err
			}
			res.Archives++
		}
	}
	if o.noSync {
		m.finish()
		return res, nil
	}
	if err := syncDir(root); err != nil {
		return res, fmt.Errorf("flushing the extracted files: %w", err)
	}
	m.finish()
	return res, nil
}

// planFile plans a file source: it must be an archive, by name or content.
func planFile(src string) ([]job, error) {
	name := filepath.Base(src)
	if !IsArchive(name) {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("reading the source: %w", err)
		}
		head := make([]byte, sniffLen)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if sniff(head[:n]) == fmtUnknown {
			return nil, &Error{Archive: name, Kind: ErrNotArchive, Detail: "no known archive format"}
		}
	}
	v, ok := parseVolume(name)
	if !ok {
		return []job{{paths: []string{src}, name: name}}, nil
	}
	// A volume of a set: its siblings in the same folder join it.
	dir := filepath.Dir(src)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the source folder: %w", err)
	}
	type member struct {
		path  string
		index int
	}
	var ms []member
	for _, e := range ents {
		if w, ok := parseVolume(e.Name()); ok && e.Type().IsRegular() && w.scheme == v.scheme && w.base == v.base {
			ms = append(ms, member{filepath.Join(dir, e.Name()), w.index})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].index < ms[j].index })
	if len(ms) == 0 {
		ms = []member{{src, v.index}}
	}
	// Given any volume, the whole set is extracted, from its first.
	j := job{name: filepath.Base(ms[0].path)}
	for _, m := range ms {
		j.paths = append(j.paths, m.path)
	}
	if err := checkSet(j.name, v.scheme, func(i int) int { return ms[i].index }, len(ms)); err != nil {
		return nil, err
	}
	return []job{j}, nil
}

// planFolder walks a folder source: archives (volume sets grouped) to
// extract, everything else to carry over.
func planFolder(src string) ([]job, error) {
	type member struct {
		rel   string
		path  string
		index int
	}
	sets := map[string][]member{} // "dir\x00scheme\x00base" → volumes
	var setKeys []string
	var jobs []job
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir():
			jobs = append(jobs, job{rel: rel, carry: true, dir: true})
			return nil
		case !d.Type().IsRegular():
			return nil // links and special files of the source are not carried
		}
		name := d.Name()
		if v, ok := parseVolume(name); ok {
			key := path.Dir(rel) + "\x00" + v.scheme + "\x00" + v.base
			if _, seen := sets[key]; !seen {
				setKeys = append(setKeys, key)
			}
			sets[key] = append(sets[key], member{rel: rel, path: p, index: v.index})
			return nil
		}
		if archiveExt(name) != "" {
			jobs = append(jobs, job{rel: rel, paths: []string{p}, name: rel})
			return nil
		}
		jobs = append(jobs, job{rel: rel, paths: []string{p}, carry: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the source folder: %w", err)
	}
	for _, key := range setKeys {
		ms := sets[key]
		sort.Slice(ms, func(i, j int) bool { return ms[i].index < ms[j].index })
		j := job{rel: ms[0].rel, name: ms[0].rel}
		for _, m := range ms {
			j.paths = append(j.paths, m.path)
		}
		j.err = checkSet(ms[0].rel, setScheme(key), func(i int) int { return ms[i].index }, len(ms))
		jobs = append(jobs, j)
	}
	n := 0
	for _, j := range jobs {
		if !j.carry {
			n++
		}
	}
	if n == 0 {
		return nil, &Error{Archive: path.Base(filepath.ToSlash(src)), Kind: ErrNotArchive, Detail: "the folder holds no archive"}
	}
	// Carries first (in walk order, folders before their files), then the
	// archives in name order.
	sort.SliceStable(jobs, func(a, b int) bool {
		if jobs[a].carry != jobs[b].carry {
			return jobs[a].carry
		}
		return !jobs[a].carry && jobs[a].rel < jobs[b].rel
	})
	return jobs, nil
}

func setScheme(key string) string {
	_, rest, _ := strings.Cut(key, "\x00")
	scheme, _, _ := strings.Cut(rest, "\x00")
	return scheme
}

// checkSet verifies that a volume set is complete as far as names tell:
// it starts at its first volume and has no gaps.
func checkSet(name, scheme string, index func(int) int, n int) error {
	first := 1
	switch scheme {
	case schemeRarOld:
		first = -1
	case schemeSplitZip:
		if n > 1 || index(0) != 1<<20 {
			return &Error{Archive: name, Kind: ErrUnsupported, Detail: "a split zip (.z01, .z02, …); join the pieces with zip -s 0 first"}
		}
		return nil
	}
	if index(0) != first {
		return &Error{Archive: name, Kind: ErrCorrupt, Detail: "the first volume is missing"}
	}
	for i := 1; i < n; i++ {
		want := index(i-1) + 1
		if scheme == schemeRarOld && i == 1 {
			want = 0
		}
		if index(i) != want {
			number := want // partN and .NNN count from 1
			if scheme == schemeRarOld {
				number = want + 2 // .rar is the first, .r00 the second
			}
			return &Error{Archive: name, Kind: ErrCorrupt, Detail: "volume " + strconv.Itoa(number) + " is missing"}
		}
	}
	return nil
}

// extraction is the state of one Extract call.
type extraction struct {
	ctx     context.Context
	root    *os.Root
	src     string
	fileSrc bool
	pw      string
	m       *meter
	bud     *budget
	sink    *sink
}

// carry recreates a folder or carries a plain file of a folder source.
func (x *extraction) carry(j job) error {
	if j.dir {
		err := x.sink.mkdirAll(j.rel)
		if errors.Is(err, errConflict) {
			return nil
		}
		return err
	}
	if err := x.sink.mkdirAll(path.Dir(j.rel)); err != nil {
		return err
	}
	if err := linkInto(x.root, j.paths[0], j.rel); err == nil {
		x.sink.res.Carried++
		return nil
	}
	// Another file system, or links not allowed: copy.
	in, err := os.Open(j.paths[0])
	if err != nil {
		return fmt.Errorf("carrying %s over: %w", j.rel, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("carrying %s over: %w", j.rel, err)
	}
	out, err := x.root.OpenFile(j.rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm(fi.Mode()))
	if err != nil {
		return fmt.Errorf("carrying %s over: %w", j.rel, err)
	}
	_, err = x.sink.copy(out, in, fi.Size()+1, &LimitError{})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	var re *readError
	if errors.As(err, &re) {
		err = re.err
	}
	if err != nil {
		return fmt.Errorf("carrying %s over: %w", j.rel, err)
	}
	_ = x.root.Chtimes(j.rel, fi.ModTime(), fi.ModTime())
	x.sink.res.Carried++
	return nil
}

// archive extracts one archive set.
func (x *extraction) archive(j job) error {
	if j.err != nil {
		return j.err
	}
	in, err := openInput(x.ctx, j.name, j.paths, x.m)
	if err != nil {
		return err
	}
	defer in.Close()
	x.bud.startArchive(j.name, in.size)
	w, err := x.open(in, j)
	if err != nil {
		return err
	}
	defer w.close()
	if d, ok := w.(declarer); ok {
		claimed := d.declared()
		if room, limit := x.bud.room(); claimed > room && limit.Limit != LimitFile {
			return limit
		}
	}
	base := "."
	if !x.fileSrc {
		if s, ok := w.(single); ok && s.single() {
			base = path.Dir(j.rel)
		} else {
			base, err = x.sink.uniqueDir(path.Join(path.Dir(j.rel), sanitizeComponent(Stem(path.Base(j.rel)))))
			if err != nil {
				return fmt.Errorf("creating a folder for %s: %w", j.name, err)
			}
		}
	}
	return x.entries(w, base)
}

// open recognises the set's format and opens it.
func (x *extraction) open(in *input, j job) (walker, error) {
	name := path.Base(filepath.ToSlash(j.paths[0]))
	f := sniff(in.head(sniffLen))
	claimed := nameFormat(name)
	if f == fmtUnknown {
		f = claimed
	}
	switch f {
	case fmtZip:
		return openZip(x, in, claimed)
	case fmt7z:
		return open7z(x, in)
	case fmtRar:
		return openRar(x, in, j)
	case fmtTar, fmtGzip, fmtBzip2, fmtXz, fmtZstd:
		return openStream(x, in, f, name)
	}
	return nil, &Error{Archive: in.name, Kind: ErrNotArchive, Detail: "no known archive format"}
}

// entries copies every entry of an opened archive under base.
func (x *extraction) entries(w walker, base string) error {
	for {
		e, err := w.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.fail(err, "")
		}
		if err := x.bud.entry(); err != nil {
			return err
		}
		switch e.kind {
		case kindLink:
			x.sink.res.Skipped.Link++
			continue
		case kindSpecial:
			x.sink.res.Skipped.Special++
			continue
		}
		name, err := SanitizeName(e.name)
		if errors.Is(err, errNameEmpty) && e.kind == kindDir {
			continue // "./", the archive's own top folder: dst is that folder
		}
		if err != nil {
			x.sink.res.Skipped.UnsafePath++
			continue
		}
		rel := name
		if base != "." {
			rel = base + "/" + name
		}
		if e.kind == kindDir {
			err = x.sink.mkdirAll(rel)
		} else {
			err = x.sink.write(rel, e.mode, e.mtime, e.open)
		}
		var re *readError
		switch {
		case err == nil:
		case errors.Is(err, errConflict):
			x.sink.res.Skipped.Conflict++
		case errors.As(err, &re):
			return w.fail(re.err, e.name)
		default:
			var le *LimitError
			if errors.As(err, &le) {
				return err
			}
			return fmt.Errorf("extracting %s: %w", x.bud.archive, err)
		}
	}
}

// common handles the errors every format treats alike; it returns nil for
// the format to decide.
func (x *extraction) common(err error, arc, entry string) error {
	var (
		e  *Error
		le *LimitError
		pe *fs.PathError
	)
	switch {
	case x.ctx.Err() != nil:
		return x.ctx.Err()
	case errors.As(err, &e):
		if e.Archive == "" {
			e.Archive = arc
		}
		if e.Entry == "" {
			e.Entry = entry
		}
		return e
	case errors.As(err, &le):
		if le.Archive == "" {
			le.Archive = arc
		}
		return le
	case errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist):
		// The disk under the archive failed (EIO): not the archive's fault.
		return fmt.Errorf("reading %s: %w", arc, err)
	}
	return nil
}

// corrupt is the usual verdict on unreadable data.
func corrupt(arc, entry string, err error) *Error {
	detail := "unreadable data"
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		detail = "it ends too early"
	case errors.Is(err, errChecksum):
		detail = "a checksum does not match"
	case errors.Is(err, fs.ErrNotExist):
		detail = "a volume is missing"
	}
	return &Error{Archive: arc, Entry: entry, Kind: ErrCorrupt, Detail: detail, Err: err}
}

// errChecksum is a content checksum mismatch found by this package.
var errChecksum = errors.New("checksum mismatch")

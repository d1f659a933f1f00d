package downloads

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/httpx"
)

// FilesPrefix is where files are served; CDN nodes cache under
// /api/downloads/ (cdn.DefaultPrefixes).
const FilesPrefix = "/api/downloads/files/"

// Handler serves ready files under FilesPrefix:
// /api/downloads/files/<device>/<job>/<item>/<version>/<filename>?exp=&sig=.
// The signature (cdn.Signer) proves the API handed the link out; the
// device in the path is checked here on every request, so a revoked
// device's links stop at once at the origin. The answers are cacheable
// ("public, immutable": a path names one file version), so a CDN node
// serves repeat requests from its disk until the link's exp; a node never
// asks the origin again for a cached object, so revocation reaches
// cached copies only when their signature expires (at most downloads.ttl).
// That is the trade chosen: offline downloads are large and worth
// caching, and revocation is about new downloads.
type Handler struct {
	s      *Service
	origin func(*http.Request) bool
}

// Handler returns the files handler.
func (s *Service) Handler() *Handler { return &Handler{s: s} }

// AllowOrigin lets requests that check passes (a CDN node's bearer token
// on a miss: nodes verify the signature themselves and drop the query)
// through without a signature; the device is still checked.
func (h *Handler) AllowOrigin(check func(*http.Request) bool) { h.origin = check }

// fileRef is a parsed file path.
type fileRef struct {
	device, job, version, name string
	item                       int64
}

func parseFilePath(p string) (fileRef, bool) {
	rest, ok := strings.CutPrefix(p, FilesPrefix)
	if !ok || path.Clean(p) != p || strings.Contains(p, "\\") {
		return fileRef{}, false
	}
	seg := strings.Split(rest, "/")
	if len(seg) != 5 {
		return fileRef{}, false
	}
	for _, x := range seg {
		if x == "" || x == "." || x == ".." {
			return fileRef{}, false
		}
	}
	id, err := strconv.ParseInt(seg[2], 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != seg[2] {
		return fileRef{}, false
	}
	return fileRef{device: seg[0], job: seg[1], item: id, version: seg[3], name: seg[4]}, true
}

// ServeHTTP serves GET and HEAD with ranges, If-Range and a strong ETag
// (http.ServeContent over the *os.File, so bodies go out with sendfile).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeErr(w, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "use GET or HEAD"})
		return
	}
	ref, ok := parseFilePath(r.URL.Path)
	if !ok {
		writeErr(w, ErrNotFound)
		return
	}
	if h.origin == nil || !h.origin(r) {
		if err := h.s.p.Signer.Verify(r, h.s.p.Now()); err != nil {
			if errors.Is(err, cdn.ErrExpired) {
				writeErr(w, h.s.refused(refuse(http.StatusUnauthorized, CodeLinkExpired, "", "this download link has expired; open Downloads in the app for a fresh one")))
				return
			}
			writeErr(w, &Error{Status: http.StatusForbidden, Code: "bad_signature", Message: "this link is not valid; open Downloads in the app for a fresh one"})
			return
		}
	}
	f, meta, err := h.s.openFile(ref)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			h.s.log.Error("downloads: open file", "err", err)
			e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "the file cannot be read; try again or check the server log"}
		}
		writeErr(w, e)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", meta.ctype)
	hd.Set("Content-Disposition", contentDisposition(meta.filename))
	hd.Set("ETag", meta.etag)
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	if start, ok := rangeStart(r.Header.Get("Range")); ok && start > 0 {
		h.s.m.resumes.Inc()
	}
	cw := &httpx.CountingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", time.Time{}, f)
	h.s.m.bytes.Add(float64(cw.N))
}

// rangeStart is the first byte a "bytes=N-…" Range asks for.
func rangeStart(v string) (int64, bool) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok {
		return 0, false
	}
	first, _, _ := strings.Cut(spec, ",")
	a, _, _ := strings.Cut(strings.TrimSpace(first), "-")
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

type fileMeta struct{ filename, etag, ctype string }

// openFile checks the device, job and version of ref and opens its file.
func (s *Service) openFile(ref fileRef) (*os.File, fileMeta, error) {
	s.mu.Lock()
	d, j := s.devices[ref.device], s.jobs[ref.job]
	var it jitem
	if j != nil && j.deviceID == ref.device {
		if p := j.item(ref.item); p != nil {
			it = *p
		}
	}
	s.mu.Unlock()
	switch {
	case d == nil:
		return nil, fileMeta{}, ErrNotFound
	case d.Revoked:
		return nil, fileMeta{}, s.refused(refuse(http.StatusUnauthorized, CodeDeviceRevoked, "", "this device was revoked, so its download links no longer work"))
	case !d.ExpiresAt.After(s.p.Now()):
		return nil, fileMeta{}, s.refused(refuse(http.StatusUnauthorized, CodeLinkExpired, "", "this device has not checked in for %s, so its links expired; open the app to check in", s.p.TTL))
	case it.itemID == 0 || (it.state != ItemReady && it.state != ItemDownloaded) || etagToken(it.etag) != ref.version:
		return nil, fileMeta{}, ErrNotFound
	}
	if ref.name != it.filename {
		return s.openSubtitle(it, ref.name)
	}
	meta := fileMeta{filename: it.filename, etag: it.etag, ctype: "video/mp4"}
	if strings.HasSuffix(it.filename, ".m4a") {
		meta.ctype = "audio/mp4"
	}
	if it.file != "" {
		f, err := os.Open(filepath.Join(s.p.Dir, it.file))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fileMeta{}, gone()
		}
		return f, meta, err
	}
	return s.openOriginal(it, meta)
}

// openSubtitle opens the WebVTT file of an item named name.
func (s *Service) openSubtitle(it jitem, name string) (*os.File, fileMeta, error) {
	for _, sf := range it.subs {
		if sf.Name != name {
			continue
		}
		f, err := os.Open(filepath.Join(s.p.Dir, sf.File))
		if err != nil {
			return nil, fileMeta{}, gone()
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fileMeta{}, err
		}
		return f, fileMeta{filename: name, etag: etagOf(fi), ctype: "text/vtt; charset=utf-8"}, nil
	}
	return nil, fileMeta{}, ErrNotFound
}

// openOriginal opens an original through its library root, refusing a
// file that changed since the job was prepared (its ETag would lie).
func (s *Service) openOriginal(it jitem, meta fileMeta) (*os.File, fileMeta, error) {
	li, err := s.p.Catalog.Item(s.ctx, it.itemID)
	if err != nil {
		return nil, fileMeta{}, gone()
	}
	root, p, err := s.p.Catalog.MediaRoot(s.ctx, li)
	if err != nil {
		return nil, fileMeta{}, gone()
	}
	f, err := root.Open(p)
	if err != nil {
		return nil, fileMeta{}, gone()
	}
	fi, err := f.Stat()
	if err != nil || etagOf(fi) != it.etag {
		f.Close()
		return nil, fileMeta{}, gone()
	}
	if ct := mimeOf(p); ct != "" {
		meta.ctype = ct
	}
	return f, meta, nil
}

func mimeOf(p string) string {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".mkv":
		return "video/x-matroska"
	case ".webm":
		return "video/webm"
	case ".mp3":
		return "audio/mpeg"
	case ".flac":
		return "audio/flac"
	case ".m4a":
		return "audio/mp4"
	case ".mp4", ".m4v", ".mov":
		return "video/mp4"
	}
	return "application/octet-stream"
}

func gone() *Error {
	return &Error{Status: http.StatusGone, Code: "file_changed", Message: "the file changed or was removed since this link was made; retry the item under Downloads"}
}

// WriteError answers err as JSON {error, code, message, rule}: "error" is
// the downloads contract's name for the code, "code" the API's.
func WriteError(w http.ResponseWriter, err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	writeErr(w, e)
	return true
}

func writeErr(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="marquee"`)
	}
	w.WriteHeader(e.Status)
	body := map[string]string{"error": e.Code, "code": e.Code, "message": e.Message}
	if e.Rule != "" {
		body["rule"] = e.Rule
	}
	_ = json.NewEncoder(w).Encode(body)
}

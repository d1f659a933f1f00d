package vod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-party/marquee/internal/httpx"
	"github.com/marquee-party/marquee/vod/segcache"
)

// Prefix is where the handler is mounted; the CDN node reserves it too.
const Prefix = "/api/hls/"

// URLTTL is how long a signed playlist URL, and every URL it leads to,
// stays valid: longer than any film, so a paused viewer can resume.
const URLTTL = 12 * time.Hour

// Signer signs and checks URLs (cdn.Signer).
type Signer interface {
	Sign(path string, exp time.Time) string
	Verify(r *http.Request, now time.Time) error
}

// Resolver maps a library item id to its file and the library root that
// must hold it.
type Resolver func(ctx context.Context, itemID int64) (Opener, string, error)

// Handler serves /api/hls/: master and media playlists and segments. Every
// URL is signed: whoever holds one was allowed the item when it was
// signed (see MasterURL), and every URL in a playlist is signed with the
// playlist's own expiry.
type Handler struct {
	svc     *Service
	signer  Signer
	resolve Resolver
	now     func() time.Time
	mux     *http.ServeMux
	origin  func(*http.Request) bool
	cdn     string // base URL of the CDN node objects are fetched from; "" is this server
	// Per-node playlists (http_nodes.go); nil: off.
	nodeSigner NodeSigner
	nodeURLs   NodeURLs
}

// UseCDN makes media playlists send viewers to the CDN node at base
// (cmd/api's cdn.url) for init segments and segments, with URLs signed
// for the node (same Signer secret). Playlists stay on the API, no-store:
// they carry the viewer's expiry and a node caches a path forever.
func (h *Handler) UseCDN(base string) { h.cdn = strings.TrimSuffix(base, "/") }

// AllowOrigin lets requests that check passes (a CDN node's bearer token
// on a cache miss: nodes check the signature themselves and drop the
// query) fetch init segments and segments without a signature. Playlists
// always need one: the URLs in them are signed with its expiry.
func (h *Handler) AllowOrigin(check func(*http.Request) bool) { h.origin = check }

// NewHandler returns the handler; now may be nil (time.Now).
func NewHandler(svc *Service, signer Signer, resolve Resolver, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	h := &Handler{svc: svc, signer: signer, resolve: resolve, now: now, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+Prefix+"{item}/master.m3u8", h.master)
	h.mux.HandleFunc("GET "+Prefix+"{item}/{ver}/{rend}/index.m3u8", h.media)
	h.mux.HandleFunc("GET "+Prefix+"{item}/{ver}/{rend}/{set}/{obj}", h.object)
	h.routeTracks() // http_tracks.go: subtitles, tracks.json
	h.routeNodes()  // http_nodes.go: playlists through CDN nodes
	return h
}

// MasterURL is the signed master playlist URL of an item, for a caller
// already allowed to watch it.
func (h *Handler) MasterURL(itemID int64) string {
	exp := h.now().Truncate(time.Minute).Add(URLTTL)
	return h.signer.Sign(Prefix+strconv.FormatInt(itemID, 10)+"/master.m3u8", exp)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			h.svc.log.Error("vod: panic serving", "path", r.URL.Path, "panic", v)
			writeErr(w, http.StatusInternalServerError, "internal", "internal error; try again")
		}
	}()
	if err := h.signer.Verify(r, h.now()); err != nil && !h.originObject(r) {
		refuseSignature(w, err)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) originObject(r *http.Request) bool {
	if h.origin == nil || strings.HasSuffix(r.URL.Path, ".m3u8") {
		return false
	}
	return h.origin(r)
}

// exp is the request's (verified) expiry, reused for the URLs it lists.
func exp(r *http.Request) time.Time {
	e, _ := strconv.ParseInt(r.URL.Query().Get("exp"), 10, 64)
	return time.Unix(e, 0)
}

func (h *Handler) item(w http.ResponseWriter, r *http.Request) (int64, *item, bool) {
	id, err := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != r.PathValue("item") {
		writeErr(w, http.StatusNotFound, "not_found", "no such item")
		return 0, nil, false
	}
	root, path, err := h.resolve(r.Context(), id)
	if err != nil {
		writeErr(w, http.StatusNotFound, "not_found", "no such item")
		return 0, nil, false
	}
	it, err := h.svc.item(root, path)
	if err != nil {
		h.fail(w, err)
		return 0, nil, false
	}
	return id, it, true
}

func (h *Handler) master(w http.ResponseWriter, r *http.Request) {
	id, it, ok := h.item(w, r)
	if !ok {
		return
	}
	e := exp(r)
	body := masterPlaylist(it.tl, func(rd Rendition) string {
		return h.signer.Sign(fmt.Sprintf("%s%d/%s/%s/index.m3u8", Prefix, id, it.src.ID(), rd.Name), e)
	}, h.altGroups(id, it, e))
	h.writePlaylist(w, body)
}

// version checks the {ver} of a URL against the file as it is now.
func (h *Handler) version(w http.ResponseWriter, r *http.Request, it *item) (Rendition, bool) {
	if r.PathValue("ver") != it.src.ID() {
		writeErr(w, http.StatusGone, "source_changed", "the file changed since this playlist was made; reload the master playlist")
		return Rendition{}, false
	}
	rd, ok := findRendition(it.tl, r.PathValue("rend"))
	if !ok {
		writeErr(w, http.StatusNotFound, "not_found", "no such rendition")
	}
	return rd, ok
}

func (h *Handler) media(w http.ResponseWriter, r *http.Request) {
	id, it, ok := h.item(w, r)
	if !ok {
		return
	}
	rd, ok := h.version(w, r, it)
	if !ok {
		return
	}
	h.writePlaylist(w, h.mediaBody(id, it, rd, exp(r), h.cdn, h.signer))
}

// mediaBody is a media playlist whose objects are at host (a CDN node's
// base URL, or "" for this server), signed by s until e.
func (h *Handler) mediaBody(id int64, it *item, rd Rendition, e time.Time, host string, s Signer) string {
	// Objects live under the settings' hash too: a CDN node and browsers
	// keep them forever, so new encoder settings must make new URLs.
	base := fmt.Sprintf("%s%d/%s/%s/%s/", Prefix, id, it.src.ID(), rd.Name, settingsHash(rd, h.svc.segTicks))
	return mediaPlaylist(it.tl.view(rd), host+s.Sign(base+"init.mp4", e), func(k int) string {
		return host + s.Sign(base+strconv.Itoa(k)+".m4s", e)
	})
}

func (h *Handler) object(w http.ResponseWriter, r *http.Request) {
	_, it, ok := h.item(w, r)
	if !ok {
		return
	}
	rd, ok := h.version(w, r, it)
	if !ok {
		return
	}
	set := settingsHash(rd, h.svc.segTicks)
	if r.PathValue("set") != set {
		writeErr(w, http.StatusGone, "settings_changed", "the server's encoder settings changed since this playlist was made; reload the master playlist")
		return
	}
	k, ctype, ok := objectIndex(r.PathValue("obj"))
	if !ok {
		writeErr(w, http.StatusNotFound, "not_found", "no such segment")
		return
	}
	var body io.ReadSeeker
	f, err := h.svc.object(r.Context(), it, rd.Name, k)
	if data, ok := uncached(err); ok {
		body = bytes.NewReader(data) // made, but the cache would not keep it
	} else if err != nil {
		h.fail(w, err)
		return
	} else {
		defer f.Close()
		body = f
	}
	// Segments never change under a URL (the URL names the source's
	// version, the rendition and the settings' cache): cacheable by CDN
	// nodes (issue #16) and browsers; the signed URL is the access check.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", `"`+it.src.ID()+"."+set+"."+strconv.Itoa(k)+`"`)
	// Ranges and If-None-Match, for downloads, browsers and CDN nodes;
	// the body goes out with sendfile(2) (see httpx.CountingWriter).
	cw := &httpx.CountingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", time.Time{}, body)
	h.svc.m.served.WithLabelValues(objectKind(k)).Add(float64(cw.N))
}

// objectIndex parses "init.mp4" or "<k>.m4s" (k canonical decimal).
func objectIndex(name string) (int, string, bool) {
	if name == "init.mp4" {
		return segcache.InitIndex, "video/mp4", true
	}
	s, ok := strings.CutSuffix(name, ".m4s")
	k, err := strconv.Atoi(s)
	if !ok || err != nil || k < 0 || strconv.Itoa(k) != s {
		return 0, "", false
	}
	return k, "video/iso.segment", true
}

func (h *Handler) writePlaylist(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-store")
	n, _ := io.WriteString(w, body)
	h.svc.m.served.WithLabelValues("playlist").Add(float64(n))
}

// fail answers a vod error with a JSON body saying what to do.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, context.Canceled):
		return
	case errors.Is(err, ErrNotFound):
		writeErr(w, http.StatusNotFound, "not_found", "no such segment")
	case errors.Is(err, ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeErr(w, http.StatusServiceUnavailable, "busy", err.Error())
	case errors.Is(err, ErrUnsupported):
		writeErr(w, http.StatusUnsupportedMediaType, "unsupported_media", err.Error()+"; convert the file to a common format")
	case errors.Is(err, ErrSource):
		writeErr(w, http.StatusUnprocessableEntity, "bad_source",
			"this part of the file cannot be read ("+err.Error()+"); the file may be damaged: replace or re-encode it, or skip ahead")
	default:
		h.svc.log.Error("vod: encode failed", "err", err)
		writeErr(w, http.StatusInternalServerError, "encode_failed", "the segment could not be encoded; try again or check the server log")
	}
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// objectKind is the metric label of object k.
func objectKind(k int) string {
	if k == segcache.InitIndex {
		return "init"
	}
	return "segment"
}

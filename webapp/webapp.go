// Package webapp serves Marquee's browser app: the single-page application
// built by `npm run --prefix webapp build` into webapp/dist and embedded in
// the binary. Hashed assets are cached forever; every other path that is not
// a file answers with index.html so that deep links such as /join/<token> or
// /party/<id> open the app, which then routes on the client.
package webapp

import (
	"embed"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the build output. The directory always exists (dist/.keep is
// committed) so the package compiles before the first npm build; in that
// case the server answers with a page telling the operator how to build it.
//
//go:embed all:dist
var dist embed.FS

// Params configures a Server.
type Params struct {
	// Logger receives one line per failure to read the embedded files.
	// Nil discards.
	Logger *slog.Logger
	// Files overrides the embedded build, rooted at the directory that
	// holds index.html. Tests use it; nil means the embedded dist/.
	Files fs.FS
}

// Server is the http.Handler for the web app. Mount it at "/" after the API
// routes: it answers GET and HEAD for every path that is not under /api/.
type Server struct {
	log   *slog.Logger
	files fs.FS
	start time.Time
}

// New returns a Server for p.
func New(p Params) *Server {
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	files := p.Files
	if files == nil {
		sub, err := fs.Sub(dist, "dist")
		if err != nil { // cannot happen: "dist" is a valid path
			sub = dist
		}
		files = sub
	}
	return &Server{log: log.With("component", "webapp"), files: files, start: time.Now()}
}

// Handler returns the web app served from the embedded build, for callers
// that need no options.
func Handler() http.Handler { return New(Params{}) }

// Built reports whether the embedded build contains the app, so that a
// readiness check or start-up log can warn about a binary built without it.
func (s *Server) Built() bool {
	_, err := fs.Stat(s.files, "index.html")
	return err == nil
}

// ServeHTTP serves a file, the app shell, or the "not built" page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	setSecurityHeaders(w.Header())
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	switch {
	case name == "api" || strings.HasPrefix(name, "api/"):
		// The API mux owns /api; reaching here means no such endpoint, and an
		// HTML page would confuse a JSON client.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"code":"not_found","message":"no such API endpoint"}`+"\n")
		return
	case strings.HasPrefix(name, "assets/"):
		// Content-hashed names: a miss is a real 404, never the app shell.
		if s.serveFile(w, r, name, "public, max-age=31536000, immutable") {
			return
		}
		http.NotFound(w, r)
		return
	case revalidated(name):
		// The service worker and the manifest name this build's files: a
		// cached old copy would keep an old shell, so they always revalidate.
		if s.serveFile(w, r, name, "no-cache") {
			return
		}
	case name != "" && name != "index.html" && path.Ext(name) != "":
		if s.serveFile(w, r, name, "public, max-age=3600") {
			return
		}
	}
	if !s.serveFile(w, r, "index.html", "no-cache") {
		s.notBuilt(w)
	}
}

// serveFile writes the named file with the cache policy and reports whether
// it existed.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name, cache string) bool {
	f, err := s.files.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("open embedded file", "name", name, "err", err)
		}
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return false
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		s.log.Error("embedded file is not seekable", "name", name)
		return false
	}
	w.Header().Set("Cache-Control", cache)
	if ct, ok := contentType(path.Ext(name)); ok {
		w.Header().Set("Content-Type", ct)
	}
	if gz := s.gzipped(r, name); gz != nil {
		defer gz.Close()
		rs = gz.(io.ReadSeeker) // embed.FS and fstest files seek; checked in gzipped
		w.Header().Set("Content-Encoding", "gzip")
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Add("Vary", "Accept-Encoding")
	}
	mod := st.ModTime()
	if mod.IsZero() { // embed.FS has no mod times; the start time keeps If-Modified-Since useful
		mod = s.start
	}
	http.ServeContent(w, r, name, mod, rs)
	return true
}

// gzipped opens the pre-compressed copy of an asset when the client accepts
// gzip and the build wrote one (build.mjs does, for the JS and CSS bundles).
func (s *Server) gzipped(r *http.Request, name string) fs.File {
	if !strings.HasPrefix(name, "assets/") || !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		return nil
	}
	f, err := s.files.Open(name + ".gz")
	if err != nil {
		return nil
	}
	if _, ok := f.(io.ReadSeeker); !ok {
		_ = f.Close()
		return nil
	}
	return f
}

// revalidated reports the root files served with no-cache (see ServeHTTP).
func revalidated(name string) bool { return name == "sw.js" || name == "manifest.webmanifest" }

// contentType names the types Go's mime table may not know; the web app
// manifest's is registered by the W3C Web App Manifest spec.
func contentType(ext string) (string, bool) {
	if ext == ".webmanifest" {
		return "application/manifest+json", true
	}
	return "", false
}

// notBuilt answers when the binary was built before the web app was.
func (s *Server) notBuilt(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, notBuiltPage)
}

// setSecurityHeaders applies the policy for every app response. Invite
// tokens live in /join/<token> URLs, so no Referer may carry them away.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data: blob: http: https:",
		"media-src 'self' blob: http: https:",
		"connect-src 'self' ws: wss: http: https:",
		"worker-src 'self'", // the offline service worker, /sw.js
		"manifest-src 'self'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
		"form-action 'self'",
	}, "; "))
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marquee: web app not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;background:#0e0f13;color:#e8e8ee;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:36rem;padding:2rem}code{background:#1c1e26;padding:.15rem .4rem;border-radius:4px}</style></head>
<body><main><h1>Web app not built</h1>
<p>This binary was built before the web app. Run <code>make run</code>, or build it by hand and rebuild the binary:</p>
<p><code>npm ci --prefix webapp &amp;&amp; npm run --prefix webapp build</code></p>
<p>The API under <code>/api</code> works without it.</p></main></body></html>
`

// Package api is the control plane's HTTP surface: the JSON REST API under
// /api (documented in openapi.json, served at /api/openapi.json), the
// server-sent events of parties, the ingest worker's callback endpoint and
// the one-time login page. Every route declares who may call it; the
// middleware enforces that before the handler runs.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/downloads"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// Access says who may call a route.
type Access int

// Access levels, checked by the middleware in this order of strictness.
const (
	// Public routes need no credentials (sign-in, join, the API document).
	Public Access = iota
	// Worker routes need the ingest worker's bearer secret.
	Worker
	// User routes need any signed-in account, guests included.
	User
	// Member routes need an admin or member account (no guests).
	Member
	// Admin routes need an admin account.
	Admin
	// PartyView routes need an active member of the party {id} (or an admin).
	PartyView
	// PartyControl routes need the party's host or a co-host (or an admin).
	PartyControl
	// PartyHost routes need the party's host or owner (or an admin).
	PartyHost
	// Origin routes serve CDN nodes (the CDN origin token) and also any
	// signed-in user; handlers check what a user may see.
	Origin
	// CDNNode routes serve registered CDN nodes only; the handler checks
	// the node's credential (a bearer token that is not a user's).
	CDNNode
)

// Params configures a Server.
type Params struct {
	Auth    *auth.Store
	Parties *party.Service
	// Library and Scanner are optional; without them the library routes
	// are not registered.
	Library *library.Service
	Scanner *library.Scanner
	// LibraryRoots are the folders an admin may add libraries under.
	LibraryRoots []string
	// PublicURL is where browsers reach the web app; it prefixes invite
	// and login links and decides the cookies' Secure flag.
	PublicURL string
	// InviteSecret keys the invites' HMAC.
	InviteSecret []byte
	// WorkerSecret authenticates the ingest worker's callbacks.
	WorkerSecret string
	// SessionTTL is a browser session's lifetime.
	SessionTTL time.Duration
	// CDN, when set, serves posters from edge nodes: poster requests are
	// redirected to signed URLs under CDN.URL, and the nodes fetch misses
	// from /api/posters/ with CDN.OriginToken.
	CDN *CDNParams
	// CDNNodes, when set, registers CDN nodes (cdnctl.Registry): the
	// registration and admin routes, and node credentials on Origin routes.
	CDNNodes CDNRegistry
	// HLS, when set, signs on-demand HLS playlist URLs (vod.Handler).
	HLS HLSSigner
	// Downloads, when set, serves the offline downloads API (issue #15).
	Downloads *downloads.Service
	// VODJobs, when set, runs pre-encoding jobs for admins (vod.Jobs).
	VODJobs VODJobs
	// Prefetcher, when set, hears viewers start and progress through items
	// (CDN predictive prefetch, cdnctl.Planner).
	Prefetcher Prefetcher
	// CDNHeartbeats, when set, answers CDN nodes' heartbeats (issue #16).
	CDNHeartbeats CDNHeartbeats
	// CDNChooser, when set, picks viewers' CDN nodes: the picker at
	// /api/me/cdn-node, and HLS master playlists through nodes when HLS
	// is also an HLSNodeSigner.
	CDNChooser CDNChooser
	// CDNRepl, when set, serves CDN manifests and replication requests.
	CDNRepl *CDNReplParams
	// MaxInviteTTL caps an invite's lifetime (default 7 days).
	MaxInviteTTL time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when telling clients apart (sign-in throttling, guest
	// joins); empty (the default) believes no one. See ParseTrustedProxies.
	TrustedProxies []netip.Prefix
	// Now is the clock; time.Now when nil.
	Now        func() time.Time
	Log        *slog.Logger
	Registerer prometheus.Registerer
}

// Server serves the API.
type Server struct {
	p      Params
	log    *slog.Logger
	secure bool
	// publicHost is the host of PublicURL, an accepted Origin.
	publicHost string
	routes     []Route
	mux        *http.ServeMux
	metrics    *metrics
	logins     *loginThrottle
	joins      *attemptLimiter
}

// Route is one registered endpoint; tests walk them to check the API
// document and the authorization table.
type Route struct {
	Method  string
	Pattern string // ServeMux path pattern, e.g. /api/parties/{id}
	Access  Access
	handler func(w http.ResponseWriter, r *http.Request, c *caller) error
}

// New builds the server and its routes.
func New(p Params) (*Server, error) {
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.SessionTTL <= 0 {
		p.SessionTTL = 30 * 24 * time.Hour
	}
	if p.MaxInviteTTL <= 0 {
		p.MaxInviteTTL = 7 * 24 * time.Hour
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{p: p, log: p.Log, metrics: m, mux: http.NewServeMux(), logins: newLoginThrottle(p.Now),
		joins: newAttemptLimiter(p.Now, JoinsPerWindow)}
	if u, err := url.Parse(p.PublicURL); err == nil {
		s.secure, s.publicHost = u.Scheme == "https", u.Host
	}
	s.addAuthRoutes()
	s.addPartyRoutes()
	s.addPasswordRoutes()
	s.addInviteRoutes()
	if p.Library != nil {
		s.addLibraryRoutes()
		s.addVODJobRoutes()
	}
	if p.Downloads != nil {
		s.addDownloadRoutes()
	}
	if p.CDNHeartbeats != nil {
		s.addCDNHeartbeatRoutes()
	}
	if p.CDNChooser != nil {
		s.addCDNChoiceRoutes()
	}
	if p.CDNRepl != nil {
		s.addCDNReplRoutes()
	}
	if p.CDNNodes != nil {
		s.addCDNNodeRoutes()
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	// Anything else under /api is a JSON 404, not the web app.
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errNotFoundRoute)
	})
	return s, nil
}

// Routes lists the registered routes.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Mount adds the API's routes to mux.
func (s *Server) Mount(mux *http.ServeMux) {
	mux.Handle("/api/", s.mux)
	mux.Handle("/internal/", s.mux)
	mux.Handle("GET /login/{token}", s.mux)
}

// ServeHTTP serves the API alone (tests, or a mux of its own).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) add(method, pattern string, access Access, h func(http.ResponseWriter, *http.Request, *caller) error) {
	s.routes = append(s.routes, Route{Method: method, Pattern: pattern, Access: access, handler: h})
}

// wrap authenticates and authorizes a request for rt, then runs it.
func (s *Server) wrap(rt Route) http.Handler {
	label := rt.Method + " " + rt.Pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		err := s.serve(sw, s.withClientAddr(r), rt)
		if err != nil {
			if !sw.wrote { // a stream that already started cannot turn into an error
				writeError(sw, err)
			}
			if sw.status >= 500 {
				s.log.Error("request failed", "route", label, "status", sw.status, "err", err)
			}
		}
		s.metrics.requests.WithLabelValues(label, statusClass(sw.status)).Inc()
		s.metrics.latency.WithLabelValues(label).Observe(time.Since(start).Seconds())
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt Route) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if rt.Access == Worker {
		if !s.workerAuthorized(r) {
			return errUnauthorized
		}
		return rt.handler(w, r, nil)
	}
	if rt.Access == CDNNode {
		return rt.handler(w, r, nil)
	}
	if rt.Access == Origin && (s.cdnAuthorized(r) || s.signedAuthorized(r)) {
		return rt.handler(w, r, &caller{cdn: true})
	}
	if rt.Access == Origin {
		if ok, err := s.cdnNodeAuthorized(r); err != nil {
			return err
		} else if ok {
			return rt.handler(w, r, &caller{cdn: true})
		}
	}
	c, err := s.authenticate(r)
	if err != nil && rt.Access != Public {
		return err
	}
	if c != nil && c.viaCookie && unsafeMethod(r.Method) && !sameOrigin(r, s.publicHost) {
		return errCrossOrigin
	}
	if rt.Access == Origin {
		a := User
		if err := s.authorize(r, a, c); err != nil {
			return err
		}
		return rt.handler(w, r, c)
	}
	if err := s.authorize(r, rt.Access, c); err != nil {
		return err
	}
	return rt.handler(w, r, c)
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// sameOrigin rejects cookie-authenticated writes sent from another site
// (defence in depth beside SameSite=Lax): browsers send Origin on them. The
// origin may be this request's host, or the public URL's host when a
// reverse proxy rewrites Host.
func sameOrigin(r *http.Request, publicHost string) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && (strings.EqualFold(u.Host, r.Host) || (publicHost != "" && strings.EqualFold(u.Host, publicHost)))
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the status for metrics and logs.
func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write marks the response as started.
func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush lets SSE handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func statusClass(code int) string {
	return string(rune('0'+code/100)) + "xx"
}

// background returns a context for work that must outlive the request.
func background(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

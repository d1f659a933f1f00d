package cdn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultPrefixes are the origin routes a node caches when Params.Prefixes
// is empty: posters, HLS fallback and offline downloads.
var DefaultPrefixes = []string{"/api/posters/", "/api/hls/", "/api/downloads/"}

// defaultWaitMax is the largest object whose fill other viewers wait for
// rather than fetching it from the origin themselves: about half a second
// at 1 Gb/s.
const defaultWaitMax = 64 << 20

// maxPathLen bounds the request paths a node accepts.
const maxPathLen = 1024

// Error codes a viewer can receive in the JSON body {"code","message"}.
const (
	CodeMethodNotAllowed  = "method_not_allowed"  // 405: only GET and HEAD
	CodeBadPath           = "bad_path"            // 400: not a clean path
	CodeNotFound          = "not_found"           // 404: outside the cached prefixes
	CodeUnexpectedQuery   = "unexpected_query"    // 400: parameters besides exp and sig
	CodeSignatureMissing  = "signature_missing"   // 403
	CodeSignatureInvalid  = "signature_invalid"   // 403
	CodeSignatureExpired  = "signature_expired"   // 403
	CodeOriginUnreachable = "origin_unreachable"  // 502
	CodeOriginError       = "origin_error"        // 502: origin answered 5xx
	CodeOriginAuth        = "origin_auth_refused" // 502: origin refused this node's token
	CodeOriginStalled     = "origin_stalled"      // 502: origin sent headers, then no body for cdn.origin_idle_timeout
)

// Params configures a Node.
type Params struct {
	// Origin is the control plane's base URL, e.g. http://127.0.0.1:8080.
	Origin *url.URL
	// OriginToken authenticates this node to the origin as a bearer token.
	// It is never logged.
	OriginToken string
	// CacheDir holds the cached objects; it is created if missing.
	CacheDir string
	// MaxBytes bounds the bytes of cached objects on disk.
	MaxBytes int64
	// Prefixes are the path prefixes served; DefaultPrefixes when empty.
	// Each must start and end with "/".
	Prefixes []string
	// Signer checks viewer URLs. Required.
	Signer *Signer
	// Client fetches from the origin; a client with sane connect and
	// header timeouts (and no overall timeout, for long downloads) when nil.
	Client *http.Client
	// OriginIdleTimeout bounds the wait for each chunk of an origin's
	// body; DefaultOriginIdleTimeout when zero.
	OriginIdleTimeout time.Duration
	// MaxRanges is the most byte ranges one request may ask for; a request
	// with more is answered as if it had none, with the whole object (as
	// nginx's max_ranges does). DefaultMaxRanges when zero.
	MaxRanges int
	// Logger receives the node's logs; slog.Default() when nil.
	Logger *slog.Logger
	// Registerer receives the node's metrics; none are registered when nil.
	Registerer prometheus.Registerer
	// Now is the clock used for expiry checks; time.Now when nil.
	Now func() time.Time

	// NodeID and Credential are this node's registration with the API
	// (cdnwire.Registration); with a Credential, StartHeartbeat reports
	// to the API. The credential is never logged.
	NodeID     string
	Credential string
	// Heartbeat is the period of heartbeats; DefaultHeartbeat when zero.
	Heartbeat time.Duration
	// Version is reported in heartbeats.
	Version string
}

// Node is an edge cache: an http.Handler answering signed GET and HEAD
// requests for the allowed prefixes from disk, or from the origin on a miss.
// It starts no goroutines: all its work runs on the request's goroutine.
type Node struct {
	origin   *url.URL
	token    string
	prefixes []string
	signer   *Signer
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time
	m        *metrics
	cache    *cache
	waitMax  int64 // largest fill followers wait for; see serve
	// idleTimeout cuts off an origin body that stalls (see idleBody).
	idleTimeout time.Duration
	maxRanges   int
	writeLog    burstLog
	originLog   burstLog
	hb          heartbeatConfig
	peerBytes   atomic.Int64 // fetched from peer nodes; see CountPeerBytes
	repl        *replState   // replication tasks (replicate.go)
}

// New checks p, rebuilds the cache index from p.CacheDir and returns the
// node. It fails when the cache dir cannot be created or read.
func New(p Params) (*Node, error) {
	if p.Origin == nil || (p.Origin.Scheme != "http" && p.Origin.Scheme != "https") || p.Origin.Host == "" {
		return nil, errors.New("cdn: Params.Origin must be an absolute http(s) URL")
	}
	if p.OriginToken == "" {
		return nil, errors.New("cdn: Params.OriginToken is required")
	}
	if p.Signer == nil {
		return nil, errors.New("cdn: Params.Signer is required")
	}
	if p.CacheDir == "" || p.MaxBytes <= 0 {
		return nil, errors.New("cdn: Params.CacheDir and a positive Params.MaxBytes are required")
	}
	prefixes := p.Prefixes
	if len(prefixes) == 0 {
		prefixes = DefaultPrefixes
	}
	for _, pre := range prefixes {
		if !strings.HasPrefix(pre, "/") || !strings.HasSuffix(pre, "/") || path.Clean(pre)+"/" != pre {
			return nil, fmt.Errorf("cdn: prefix %q must be a clean path starting and ending with /", pre)
		}
	}
	n := &Node{origin: p.Origin, token: p.OriginToken, prefixes: append([]string(nil), prefixes...),
		signer: p.Signer, client: p.Client, log: p.Logger, now: p.Now}
	if n.log == nil {
		n.log = slog.Default()
	}
	n.log = n.log.With("component", "cdn")
	if n.now == nil {
		n.now = time.Now
	}
	if n.client == nil {
		n.client = defaultClient()
	}
	var err error
	if n.m, err = newMetrics(p.Registerer); err != nil {
		return nil, err
	}
	if n.repl, err = newReplState(p.Registerer); err != nil {
		return nil, err
	}
	if n.cache, err = openCache(p.CacheDir, p.MaxBytes, n.log, n.m); err != nil {
		return nil, err
	}
	n.warnIfDiskSmall(p.MaxBytes)
	n.waitMax = defaultWaitMax
	n.idleTimeout = p.OriginIdleTimeout
	if n.idleTimeout <= 0 {
		n.idleTimeout = DefaultOriginIdleTimeout
	}
	n.maxRanges = p.MaxRanges
	if n.maxRanges <= 0 {
		n.maxRanges = DefaultMaxRanges
	}
	n.hb = heartbeatConfig{nodeID: p.NodeID, credential: p.Credential, every: p.Heartbeat, version: p.Version}
	if n.hb.every <= 0 {
		n.hb.every = DefaultHeartbeat
	}
	n.writeLog = burstLog{every: time.Minute, now: n.now}
	n.originLog = burstLog{every: 10 * time.Second, now: n.now}
	return n, nil
}

// defaultClient dials the origin with bounded connect and header waits but
// no overall deadline, since a download may take as long as it takes. It
// does not follow redirects: a 3xx is relayed to the viewer uncached.
func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 30 * time.Second
	tr.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// ServeHTTP checks the method, path and signature, then serves the object.
//
// Every answer allows any web origin to read it (CORS, Fetch standard
// §3.2): the web app on the API's origin fetches HLS segments here with
// XHR, and the signed URL, not a cookie, is the credential.
func (n *Node) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag, X-Cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Allow-Headers", "Range, If-Range, If-None-Match, If-Modified-Since")
		h.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		n.reject(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "only GET and HEAD are served")
		return
	}
	if msg := checkPath(r.URL); msg != "" {
		n.reject(w, http.StatusBadRequest, CodeBadPath, msg)
		return
	}
	if isPeerPath(r.URL.Path) {
		n.servePeer(w, r)
		return
	}
	pre, ok := n.allowed(r.URL.Path)
	if !ok {
		n.reject(w, http.StatusNotFound, CodeNotFound, "this CDN node serves only "+strings.Join(n.prefixes, ", "))
		return
	}
	if msg := checkID(r.URL.Path[len(pre):]); msg != "" {
		n.reject(w, http.StatusBadRequest, CodeBadPath, msg)
		return
	}
	if msg := checkQuery(r.URL.RawQuery); msg != "" {
		n.reject(w, http.StatusBadRequest, CodeUnexpectedQuery, msg)
		return
	}
	if err := n.signer.Verify(r, n.now()); err != nil {
		code, msg := CodeSignatureInvalid, "the URL signature does not match; ask the app for a fresh link"
		switch {
		case errors.Is(err, ErrMissingSignature):
			code, msg = CodeSignatureMissing, "the URL is not signed; CDN links come from the app and carry exp and sig"
		case errors.Is(err, ErrExpired):
			code, msg = CodeSignatureExpired, "the link has expired; reload the page for a fresh one"
		}
		n.reject(w, http.StatusForbidden, code, msg)
		return
	}
	if countRanges(r.Header.Get("Range")) > n.maxRanges {
		// As nginx's max_ranges: answer as if no range was asked for.
		r.Header.Del("Range")
		r.Header.Del("If-Range")
	}
	n.serve(w, r, r.URL.Path)
}

// DefaultMaxRanges is the default of Params.MaxRanges (cdn.max_ranges):
// players ask for one range, rarely a few; hundreds of tiny ranges only
// multiply the multipart overhead of an answer.
const DefaultMaxRanges = 16

// countRanges returns how many ranges a Range header asks for (RFC 9110
// §14.1.2: a comma-separated list after the unit).
func countRanges(h string) int {
	if h == "" {
		return 0
	}
	return strings.Count(h, ",") + 1
}

// checkID returns why the path's first segment after its prefix, the item
// id, is unacceptable: an id written as a decimal number must be written
// canonically ("1", not "+1" or "01"), or one object could be cached under
// many keys. Other segments are left to the origin.
func checkID(rest string) string {
	seg, _, _ := strings.Cut(rest, "/")
	digits := strings.TrimLeft(seg, "+-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return ""
	}
	v, err := strconv.ParseInt(seg, 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != seg || v <= 0 {
		return fmt.Sprintf("id %q must be a positive decimal number without sign or leading zeros", seg)
	}
	return ""
}

// Ping asks the origin's /healthz (without credentials), for the node's
// readiness check.
func (n *Node) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.originURL("/healthz"), nil)
	if err != nil {
		return err
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: origin %s unreachable: %v", ErrOrigin, n.origin.Redacted(), err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: origin %s /healthz answered %d", ErrOrigin, n.origin.Redacted(), resp.StatusCode)
	}
	return nil
}

// allowed returns the prefix p is served under.
func (n *Node) allowed(p string) (string, bool) {
	for _, pre := range n.prefixes {
		if len(p) > len(pre) && strings.HasPrefix(p, pre) {
			return pre, true
		}
	}
	return "", false
}

// checkPath returns why u's path is unacceptable, or "" when it is a clean,
// canonically encoded absolute path. Refusing non-canonical encodings
// (%2F, %2e, %41 …) means the path that was signed, the path cached and the
// path asked of the origin are one and the same string.
func checkPath(u *url.URL) string {
	p := u.Path
	switch {
	case p == "" || p[0] != '/':
		return "path must be absolute"
	case len(p) > maxPathLen:
		return fmt.Sprintf("path longer than %d bytes", maxPathLen)
	case u.RawPath != "":
		return "path has non-canonical percent-encoding (encoded slashes or dots are refused)"
	case strings.ContainsAny(p, "\\"):
		return "path contains a backslash"
	case path.Clean(p) != p:
		return "path is not clean (no '..', '.', '//' or trailing '/')"
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return "path contains a control character or NUL"
		}
	}
	return ""
}

// checkQuery refuses parameters other than exp and sig: the signature does
// not cover them, so they must not reach the origin or the cache key.
func checkQuery(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "query string is malformed"
	}
	for k := range q {
		if k != "exp" && k != "sig" {
			return "only the exp and sig parameters are accepted; put everything else in the path"
		}
	}
	return ""
}

// reject answers a refused request and counts it by code.
func (n *Node) reject(w http.ResponseWriter, status int, code, msg string) {
	n.m.rejected.WithLabelValues(code).Inc()
	writeError(w, status, code, msg)
}

// writeError writes the JSON error body every Marquee service uses.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
}

// burstLog lets a repeating failure log once per interval, with the number
// of repeats it swallowed, so a full disk does not flood the logs.
type burstLog struct {
	every time.Duration
	now   func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now, and how many calls were suppressed
// since the last logged one.
func (b *burstLog) allow() (bool, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !b.last.IsZero() && now.Sub(b.last) < b.every {
		b.suppressed++
		return false, 0
	}
	n := b.suppressed
	b.last, b.suppressed = now, 0
	return true, n
}

package cdn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// relayedHeaders are the origin response headers passed on to viewers and
// stored with cached objects. Everything else (Set-Cookie, hop-by-hop
// headers, the origin's internals) stays behind.
var relayedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
	"Cache-Control", "Etag", "Last-Modified", "Expires", "Accept-Ranges", "Content-Range", "Location"}

// forwardedHeaders are the viewer request headers passed to the origin on a
// pass-through, so ranges and revalidation keep working.
var forwardedHeaders = []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"}

// errTooLarge stops caching an object bigger than the whole budget.
var errTooLarge = errors.New("cdn: object larger than the cache")

// originURL is the origin's base URL joined with the clean path p.
func (n *Node) originURL(p string) string {
	u := *n.origin
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String()
}

// fetch asks the origin for key with this node's bearer token. The token
// goes in a header only; it never appears in a URL or a log line.
//
// The response body is cut off with errOriginIdle when the origin sends
// nothing for n.idleTimeout (cdn.origin_idle_timeout).
func (n *Node) fetch(ctx context.Context, method, key string, fwd http.Header) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, method, n.originURL(key), nil)
	if err != nil {
		cancel(err)
		return nil, err
	}
	for _, k := range forwardedHeaders {
		if v := fwd.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Accept-Encoding", "identity") // store what the origin has, byte for byte
	req.Header.Set("User-Agent", "marquee-cdn")
	resp, err := n.client.Do(req)
	if err != nil {
		cancel(err)
		return nil, err
	}
	resp.Body = withIdleTimeout(resp.Body, n.idleTimeout, cancel)
	return resp, nil
}

// originProblem classifies a failed fetch or an error status. It returns
// ok=true when resp is fit to relay. Failures are counted and logged (once
// per burst) for the operator; the viewer gets a code and what to check.
func (n *Node) originProblem(ctx context.Context, key string, resp *http.Response, err error) (code, msg string, ok bool) {
	var kind string
	switch {
	case err != nil && ctx.Err() != nil:
		return "", "", false // the viewer left; nothing to report
	case err != nil:
		kind, code = "unreachable", CodeOriginUnreachable
		msg = "this CDN node cannot reach the Marquee API (its origin); check that cmd/api is running and that cdn.origin points at it"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		kind, code = "auth", CodeOriginAuth
		msg = "the Marquee API refused this CDN node's credentials; check that cdn.origin_token matches the API's CDN token"
	case resp.StatusCode >= 500:
		kind, code = "status", CodeOriginError
		msg = "the Marquee API failed to produce this file (HTTP " + strconv.Itoa(resp.StatusCode) + "); check the API's logs"
	default:
		return "", "", true
	}
	n.m.originErrors.WithLabelValues(kind).Inc()
	if log, sup := n.originLog.allow(); log {
		attrs := []any{"kind", kind, "origin", n.origin.Redacted(), "path", key, "suppressed", sup}
		if err != nil {
			attrs = append(attrs, "err", err)
		} else {
			attrs = append(attrs, "status", resp.StatusCode)
		}
		n.log.Error("origin failed", attrs...)
	}
	return code, msg, false
}

// passThrough relays the origin's answer for r without caching it.
func (n *Node) passThrough(w http.ResponseWriter, r *http.Request, key string) {
	n.m.misses.Inc()
	resp, err := n.fetch(r.Context(), r.Method, key, r.Header)
	if code, msg, ok := n.originProblem(r.Context(), key, resp, err); !ok {
		if resp != nil {
			resp.Body.Close()
		}
		if code != "" {
			writeError(w, http.StatusBadGateway, code, msg)
		}
		return
	}
	defer resp.Body.Close()
	n.relay(w, r, resp)
}

// relay writes resp's status, relayed headers and body to w.
func (n *Node) relay(w http.ResponseWriter, r *http.Request, resp *http.Response) {
	copyHeaders(w.Header(), resp)
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	sent, readErr, writeErr := copyBody(w, resp.Body, nil)
	n.m.servedBytes.WithLabelValues("miss").Add(float64(sent))
	if readErr != nil && writeErr == nil && r.Context().Err() == nil {
		kind := "body"
		if errors.Is(readErr, errOriginIdle) {
			kind = "idle"
		}
		n.m.originErrors.WithLabelValues(kind).Inc()
		abortResponse()
	}
}

// copyHeaders sets the relayed headers of resp, its length and X-Cache.
func copyHeaders(h http.Header, resp *http.Response) {
	for _, k := range relayedHeaders {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	if resp.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	h.Set("X-Cache", "MISS")
}

// clearHeaders removes what copyHeaders set, before an error answer.
func clearHeaders(h http.Header) {
	for _, k := range relayedHeaders {
		h.Del(k)
	}
	h.Del("Content-Length")
	h.Del("X-Cache")
}

// storedHeaders picks the relayed headers worth keeping with a 200.
func storedHeaders(resp *http.Response) map[string]string {
	out := map[string]string{}
	for _, k := range relayedHeaders {
		if k == "Content-Range" || k == "Location" {
			continue
		}
		if v := resp.Header.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// cacheable reports whether a shared cache may keep this 200 response
// (RFC 9111 §3): not private, no-store or no-cache (this node never
// revalidates), no cookie, no Vary: *.
func cacheable(h http.Header) bool {
	if h.Get("Set-Cookie") != "" || strings.TrimSpace(h.Get("Vary")) == "*" {
		return false
	}
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "private", "no-store", "no-cache":
				return false
			}
		}
	}
	return true
}

// copyBody copies body to w and, best effort, to file (when non-nil),
// returning the bytes sent to w, the first read error other than EOF, and
// the first error writing to w.
func copyBody(w io.Writer, body io.Reader, file *fileSink) (sent int64, readErr, writeErr error) {
	buf := make([]byte, 64<<10)
	for {
		k, err := body.Read(buf)
		if k > 0 {
			file.write(buf[:k])
			m, werr := w.Write(buf[:k])
			sent += int64(m)
			if werr != nil {
				return sent, nil, werr
			}
		}
		if errors.Is(err, io.EOF) {
			return sent, nil, nil
		}
		if err != nil {
			return sent, err, nil
		}
	}
}

// fileSink writes a fill to its temp file, best effort: the first error
// (or exceeding limit) stops further writes and is kept for the end.
type fileSink struct {
	f       tempFile
	bodyOff int64 // length of the object header written before the body
	written int64 // body bytes written
	limit   int64
	err     error
}

func (s *fileSink) write(p []byte) {
	if s == nil || s.err != nil {
		return
	}
	if s.written+int64(len(p)) > s.limit {
		s.err = errTooLarge
		return
	}
	k, err := s.f.Write(p)
	s.written += int64(k)
	if err != nil {
		s.err = fmt.Errorf("cdn: write %s: %w", s.f.Name(), err)
	}
}

// finish writes the trailer and closes the file, keeping the first error.
func (s *fileSink) finish() {
	if s.err != nil {
		return
	}
	if _, err := s.f.Write(encodeTrailer(s.written)); err != nil {
		s.err = fmt.Errorf("cdn: write %s: %w", s.f.Name(), err)
		return
	}
	if err := s.f.Close(); err != nil {
		s.err = err
	}
}

// discard closes and removes the temp file.
func (s *fileSink) discard() {
	if s == nil {
		return
	}
	_ = s.f.Close()
	_ = os.Remove(s.f.Name())
}

// abortResponse cuts the connection so the viewer sees a truncated body as
// an error rather than a clean end. http.ErrAbortHandler is net/http's
// documented way to do that; the server recovers it without logging.
func abortResponse() {
	panic(http.ErrAbortHandler)
}

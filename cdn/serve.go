package cdn

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// maxAttempts bounds how often one request re-looks up its key after a fill
// it waited on was aborted or a cached file vanished under it.
const maxAttempts = 3

// serve answers a verified request for key from the cache, by joining a
// fill in flight, by filling, or by passing through to the origin.
//
// Only plain GETs and GETs for "bytes=0-" (what a <video> element sends
// first) fill the cache; such a miss is answered 200 with the whole body,
// which RFC 9110 §14.2 allows ("a server MAY ignore the Range header"). A
// request for any other range, or a HEAD, is passed through on a miss rather
// than made to wait for a whole film to arrive.
func (n *Node) serve(w http.ResponseWriter, r *http.Request, key string) {
	lead := r.Method == http.MethodGet && fillsWholeObject(r.Header.Get("Range"))
	for attempt := 0; attempt < maxAttempts; attempt++ {
		e, f, leader := n.cache.acquire(key, lead)
		switch {
		case e != nil:
			if n.serveHit(w, r, e) {
				return
			}
			n.cache.drop(e) // the file went away under us; look again
		case leader:
			n.fill(w, r, key, f)
			return
		case f != nil && lead:
			n.m.coalesced.Inc()
			select {
			case <-f.done:
			case <-r.Context().Done():
				return
			}
			switch f.outcome {
			case fillCached, fillAborted:
				continue
			case fillFailed:
				n.m.misses.Inc()
				writeError(w, http.StatusBadGateway, f.code, f.message)
				return
			}
			n.passThrough(w, r, key)
			return
		default:
			n.passThrough(w, r, key)
			return
		}
	}
	n.passThrough(w, r, key)
}

// fillsWholeObject reports whether a request with this Range header may be
// answered with the whole object and so may lead a fill.
func fillsWholeObject(rng string) bool {
	rng = strings.TrimSpace(rng)
	return rng == "" || strings.EqualFold(strings.ReplaceAll(rng, " ", ""), "bytes=0-")
}

// serveHit serves e from disk with http.ServeContent, which answers Range,
// If-Range, If-None-Match and If-Modified-Since from the stored ETag and
// Last-Modified. It returns false when the file has gone.
func (n *Node) serveHit(w http.ResponseWriter, r *http.Request, e *entry) bool {
	f, err := os.Open(filepath.Join(n.cache.dir, e.name))
	if err != nil {
		return false
	}
	defer f.Close()
	h := w.Header()
	for k, v := range e.header {
		if k != "Last-Modified" { // ServeContent writes it from modTime
			h.Set(k, v)
		}
	}
	h.Set("X-Cache", "HIT")
	n.m.hits.Inc()
	cw := &countingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", e.modTime, io.NewSectionReader(f, e.bodyOff, e.bodySize()))
	n.m.servedBytes.WithLabelValues("hit").Add(float64(cw.n))
	return true
}

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.ResponseWriter.Write(p)
	c.n += int64(k)
	return k, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

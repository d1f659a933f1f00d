package cdn

import (
	"errors"
	"net/http"
)

// fill fetches key from the origin as the leader of flight f, streaming the
// body to the viewer while writing it to a temp file that is renamed into
// the cache when the whole body arrived. A disk failure only costs the
// cached copy: the viewer still gets every byte.
func (n *Node) fill(w http.ResponseWriter, r *http.Request, key string, f *flight) {
	n.m.misses.Inc()
	f.outcome = fillAborted
	var tmpName string
	var e *entry
	defer func() {
		// Runs on every exit, abortResponse's panic included, so followers
		// are never left waiting.
		if err := n.cache.finish(key, f, tmpName, e); err != nil {
			n.writeFailed(key, err)
		}
	}()

	resp, err := n.fetch(r.Context(), http.MethodGet, key, nil)
	if code, msg, ok := n.originProblem(r.Context(), key, resp, err); !ok {
		if resp != nil {
			resp.Body.Close()
		}
		if code != "" {
			f.outcome, f.code, f.message = fillFailed, code, msg
			writeError(w, http.StatusBadGateway, code, msg)
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !cacheable(resp.Header) {
		f.outcome = fillUncacheable
		f.release()
		n.relay(w, r, resp)
		return
	}

	if resp.ContentLength < 0 || resp.ContentLength > n.waitMax {
		f.release()
	}
	hdr := objectHeader{Key: key, Header: storedHeaders(resp), Stored: n.now().Unix()}
	sink := n.startFile(key, hdr, resp.ContentLength)
	copyHeaders(w.Header(), resp)
	// The status goes out with the first body bytes (or at the end of an
	// empty body), so an origin that stalls before sending any still
	// lets this viewer get a clean 502.
	sent, readErr, writeErr := copyBody(w, resp.Body, sink)
	n.m.servedBytes.WithLabelValues("miss").Add(float64(sent))
	switch {
	case writeErr != nil || r.Context().Err() != nil:
		sink.discard() // the viewer left; followers will retry
		return
	case errors.Is(readErr, errOriginIdle):
		sink.discard()
		n.m.originErrors.WithLabelValues("idle").Inc()
		n.log.Warn("origin stalled mid-body; fill abandoned, waiting viewers go to the origin",
			"path", key, "sent", sent, "err", readErr)
		f.outcome = fillUncacheable // followers fail over to the origin directly
		if sent == 0 {
			clearHeaders(w.Header())
			writeError(w, http.StatusBadGateway, CodeOriginStalled, "the Marquee API (this node's origin) stopped sending this file; try again")
			return
		}
		abortResponse()
	case readErr != nil || (resp.ContentLength >= 0 && sent != resp.ContentLength):
		sink.discard()
		n.m.originErrors.WithLabelValues("body").Inc()
		n.log.Warn("origin body broke off mid-transfer", "path", key, "sent", sent, "err", readErr)
		abortResponse()
	}
	if sent == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if sink == nil {
		f.outcome = fillUncacheable
		return
	}
	sink.finish()
	if sink.err != nil {
		sink.discard()
		f.outcome = fillUncacheable
		if sink.err != errTooLarge {
			n.writeFailed(key, sink.err)
		}
		return
	}
	// finish (deferred) renames the file into place and wakes the followers.
	tmpName = sink.f.Name()
	e = newEntry(hdr, objectName(key), sink.bodyOff, sink.bodyOff+sink.written+trailerLen)
	e.touched.Store(n.now().Unix())
}

// startFile opens the temp file for a fill and writes the object header. It
// returns nil, counting and logging the failure, when the disk will not
// take it, and nil without complaint when the object cannot fit the budget.
func (n *Node) startFile(key string, hdr objectHeader, length int64) *fileSink {
	prefix, err := encodeHeader(hdr)
	if err != nil {
		n.log.Debug("not caching", "path", key, "err", err)
		return nil
	}
	limit := n.cache.max - int64(len(prefix)) - trailerLen
	if limit <= 0 || length > limit {
		n.log.Debug("not caching: larger than the cache", "path", key, "length", length)
		return nil
	}
	f, err := n.cache.createTemp(n.cache.dir, tempPattern)
	if err != nil {
		n.writeFailed(key, err)
		return nil
	}
	if _, err := f.Write(prefix); err != nil {
		(&fileSink{f: f}).discard()
		n.writeFailed(key, err)
		return nil
	}
	return &fileSink{f: f, limit: limit, bodyOff: int64(len(prefix))}
}

// writeFailed counts a cache write failure and logs it once per burst.
func (n *Node) writeFailed(key string, err error) {
	n.m.writeErrors.Inc()
	if log, sup := n.writeLog.allow(); log {
		n.log.Error("cache write failed; serving viewers pass-through", "dir", n.cache.dir, "path", key,
			"err", err, "suppressed", sup)
	}
}

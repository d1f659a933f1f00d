package cdn

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// An origin that sends headers and part of a body, then stalls, is given
// up on after the idle timeout: the viewer's transfer ends, a viewer who
// waited on the fill is sent to the origin directly, and nothing is cached.
func TestOriginStallsMidBody(t *testing.T) {
	h := newHarness(t, func(p *Params) { p.OriginIdleTimeout = 300 * time.Millisecond })
	const p = "/api/hls/7/seg1.ts"
	body := payload(50_000, 3)
	joined := make(chan struct{})
	var calls atomicCounter
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		if calls.add() > 1 { // the follower's own fetch: a healthy origin
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			_, _ = w.Write(body)
			return
		}
		<-joined
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = w.Write(body[:1000])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // stall until the node gives up
	}
	leader := make(chan result, 1)
	go func() { leader <- h.doNoWait("GET", h.url(p), nil) }()
	waitFor(t, "the leader's fill", func() bool { return counter(h.node.m.fillsInFlight) == 1 })
	follower := make(chan result, 1)
	go func() { follower <- h.doNoWait("GET", h.url(p), nil) }()
	waitFor(t, "the follower", func() bool { return counter(h.node.m.coalesced) == 1 })
	close(joined)

	if r := <-leader; r.err == nil && bytes.Equal(r.body, body) {
		t.Fatal("the leader got a whole body from a stalled origin")
	}
	if r := <-follower; r.status != 200 || !bytes.Equal(r.body, body) || r.header.Get("X-Cache") != "MISS" {
		t.Fatalf("follower: %d %s %d bytes %v; want a 200 straight from the origin", r.status, r.header.Get("X-Cache"), len(r.body), r.err)
	}
	waitFor(t, "the fill to settle", func() bool { return counter(h.node.m.fillsInFlight) == 0 })
	if h.node.cache.has(p) {
		t.Error("a stalled fill was cached")
	}
	if counter(h.node.m.originErrors.WithLabelValues("idle")) != 1 {
		t.Error("stall not counted")
	}
	assertNoTempFiles(t, h.dir)
}

// An origin that stalls before the first body byte costs the viewer a 502
// that says so, not an endless wait at 0 bytes.
func TestOriginStallsBeforeBody(t *testing.T) {
	h := newHarness(t, func(p *Params) { p.OriginIdleTimeout = 300 * time.Millisecond })
	const p = "/api/posters/3/v1"
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	r := h.get(p)
	if r.status != http.StatusBadGateway || !strings.Contains(string(r.body), CodeOriginStalled) {
		t.Fatalf("got %d %q, want 502 %s", r.status, r.body, CodeOriginStalled)
	}
	if h.node.cache.has(p) {
		t.Error("a stalled fill was cached")
	}
	assertNoTempFiles(t, h.dir)
}

// More ranges than max_ranges are answered with the whole object, as
// nginx does, instead of a multipart answer many times the object's size.
func TestTooManyRangesServeWhole(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/posters/4/v1"
	body := payload(594, 9)
	h.origin.put(p, body, nil)
	many := make([]string, 200)
	for i := range many {
		many[i] = fmt.Sprintf("%d-%d", i, i)
	}
	rng := "bytes=" + strings.Join(many, ",")
	// On a miss the ranges are not passed to the origin.
	r := h.do("GET", h.url(p), http.Header{"Range": {rng}})
	if r.status != 200 || !bytes.Equal(r.body, body) {
		t.Fatalf("miss with 200 ranges: %d, %d bytes; want 200 and the object", r.status, len(r.body))
	}
	if got := h.origin.lastRequest().Header.Get("Range"); got != "" {
		t.Errorf("origin asked for %d bytes of Range header", len(got))
	}
	h.do("GET", h.url(p), nil) // fill
	r = h.do("GET", h.url(p), http.Header{"Range": {rng}})
	if r.status != 200 || !bytes.Equal(r.body, body) || r.header.Get("X-Cache") != "HIT" {
		t.Fatalf("hit with 200 ranges: %d %s, %d bytes; want 200 HIT and the object", r.status, r.header.Get("X-Cache"), len(r.body))
	}
	r = h.do("GET", h.url(p), http.Header{"Range": {"bytes=0-1,10-11"}})
	if r.status != 206 || len(r.body) >= 1000 {
		t.Errorf("two ranges: %d, %d bytes; want a small 206", r.status, len(r.body))
	}
}

// One object has one cache key: ids written "+1" or "01" are refused
// before the signature check, the cache or the origin see them.
func TestNonCanonicalIDsRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.origin.put("/api/posters/1/v1", payload(100, 1), nil)
	for _, p := range []string{"/api/posters/+1/v1", "/api/posters/01/v1", "/api/posters/-1/v1", "/api/posters/0/v1",
		"/api/hls/007/seg.ts", "/api/downloads/+5/f.mkv"} {
		r := h.get(p)
		if r.status != 400 || !strings.Contains(string(r.body), CodeBadPath) {
			t.Errorf("GET %s = %d %s, want 400 %s", p, r.status, r.body, CodeBadPath)
		}
	}
	if r := h.get("/api/posters/1/v1"); r.status != 200 {
		t.Errorf("canonical id: %d", r.status)
	}
	if n := h.origin.calls("/api/posters/1/v1"); n != 1 {
		t.Errorf("origin called %d times, want 1", n)
	}
}

// A budget larger than the disk can give is reported at start.
func TestWarnsWhenBudgetExceedsDisk(t *testing.T) {
	h := newHarness(t, func(p *Params) { p.MaxBytes = 1 << 62 })
	if logs := h.logs.String(); !strings.Contains(logs, "cdn.max_bytes exceeds the disk space") {
		t.Fatalf("no warning in the logs:\n%s", logs)
	}
}

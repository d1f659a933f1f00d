package cdn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMissThenHit(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/hls/42/seg00001.ts"
	body := payload(300_000, 1)
	h.origin.put(p, body, nil)

	miss := h.get(p)
	if miss.err != nil || miss.status != 200 || !bytes.Equal(miss.body, body) || miss.header.Get("X-Cache") != "MISS" {
		t.Fatalf("miss: %d %q err=%v, %d bytes", miss.status, miss.header.Get("X-Cache"), miss.err, len(miss.body))
	}
	req := h.origin.lastRequest()
	if got := req.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("origin saw Authorization %q, want the node's bearer token", got)
	}
	if req.URL.RawQuery != "" {
		t.Errorf("origin saw query %q; exp and sig must not reach it", req.URL.RawQuery)
	}

	hit := h.get(p)
	if hit.status != 200 || !bytes.Equal(hit.body, body) || hit.header.Get("X-Cache") != "HIT" {
		t.Fatalf("hit: %d %q, %d bytes", hit.status, hit.header.Get("X-Cache"), len(hit.body))
	}
	for _, k := range []string{"ETag", "Last-Modified", "Content-Type"} {
		if hit.header.Get(k) == "" || hit.header.Get(k) != miss.header.Get(k) {
			t.Errorf("%s: hit %q, miss %q; want the origin's value on both", k, hit.header.Get(k), miss.header.Get(k))
		}
	}
	if n := h.origin.calls(p); n != 1 {
		t.Errorf("origin called %d times, want 1", n)
	}
	if counter(h.node.m.hits) != 1 || counter(h.node.m.misses) != 1 {
		t.Errorf("hits=%v misses=%v, want 1 and 1", counter(h.node.m.hits), counter(h.node.m.misses))
	}
	if got := counter(h.node.m.servedBytes.WithLabelValues("hit")); got != float64(len(body)) {
		t.Errorf("served hit bytes = %v, want %d", got, len(body))
	}
}

func TestConcurrentMissesCoalesce(t *testing.T) {
	h := newHarness(t, nil)
	const p, viewers = "/api/downloads/7/film.mp4", 20
	body := payload(1<<20, 3)
	gate := make(chan struct{})
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1048576")
		w.WriteHeader(200)
		_, _ = w.Write(body[:1000])
		<-gate // hold the fill open until every viewer has joined it
		_, _ = w.Write(body[1000:])
	}
	var wg sync.WaitGroup
	results := make([]result, viewers)
	for i := range viewers {
		wg.Go(func() { results[i] = h.doNoWait("GET", h.url(p), nil) })
	}
	waitFor(t, "19 followers", func() bool { return counter(h.node.m.coalesced) == viewers-1 })
	close(gate)
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.status != 200 || !bytes.Equal(r.body, body) {
			t.Fatalf("viewer %d: %d err=%v, %d bytes", i, r.status, r.err, len(r.body))
		}
	}
	if n := h.origin.calls(p); n != 1 {
		t.Errorf("origin called %d times for %d concurrent misses, want 1", n, viewers)
	}
	if got := counter(h.node.m.hits); got != viewers-1 {
		t.Errorf("hits = %v, want %d followers served from disk", got, viewers-1)
	}
}

func TestRanges(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/downloads/9/album.zip"
	body := payload(10_000, 5)
	h.origin.put(p, body, nil)

	// A range other than bytes=0- on a miss passes through without filling.
	r := h.do("GET", h.url(p), http.Header{"Range": {"bytes=100-199"}})
	if r.status != 206 || !bytes.Equal(r.body, body[100:200]) || h.node.cache.has(p) {
		t.Fatalf("range miss: %d, %d bytes, cached=%v; want 206 pass-through, not cached", r.status, len(r.body), h.node.cache.has(p))
	}
	// bytes=0- (a <video> element's first request) fills, answering 200.
	r = h.do("GET", h.url(p), http.Header{"Range": {"bytes=0-"}})
	if r.status != 200 || !bytes.Equal(r.body, body) || !h.node.cache.has(p) {
		t.Fatalf("bytes=0- miss: %d, %d bytes, cached=%v; want 200 and a fill", r.status, len(r.body), h.node.cache.has(p))
	}
	etag := r.header.Get("ETag")
	for _, tt := range []struct {
		name   string
		hdr    http.Header
		status int
		want   []byte
	}{
		{"range", http.Header{"Range": {"bytes=10-19"}}, 206, body[10:20]},
		{"suffix", http.Header{"Range": {"bytes=-5"}}, 206, body[len(body)-5:]},
		{"if-range matches", http.Header{"Range": {"bytes=0-3"}, "If-Range": {etag}}, 206, body[:4]},
		{"if-range stale", http.Header{"Range": {"bytes=0-3"}, "If-Range": {`"old"`}}, 200, body},
		{"not modified", http.Header{"If-None-Match": {etag}}, 304, nil},
		{"unsatisfiable", http.Header{"Range": {"bytes=20000-"}}, 416, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", h.url(p), tt.hdr)
			if r.status != tt.status || r.header.Get("X-Cache") != "HIT" || (tt.want != nil && !bytes.Equal(r.body, tt.want)) {
				t.Fatalf("got %d %s %d bytes, want %d HIT %d bytes", r.status, r.header.Get("X-Cache"), len(r.body), tt.status, len(tt.want))
			}
		})
	}
	if n := h.origin.calls(p); n != 2 {
		t.Errorf("origin called %d times, want 2 (one pass-through, one fill)", n)
	}
}

func TestSignatureRejected(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/posters/3.jpg"
	h.origin.put(p, []byte("jpeg"), nil)
	valid := h.signer.Sign(p, t0.Add(time.Hour))
	other := h.signer.Sign("/api/posters/4.jpg", t0.Add(time.Hour))
	for _, tt := range []struct {
		name, target string
		status       int
		code         string
	}{
		{"missing", p, 403, CodeSignatureMissing},
		{"missing sig", p + "?exp=1800003600", 403, CodeSignatureMissing},
		{"expired", h.signer.Sign(p, t0.Add(-time.Second)), 403, CodeSignatureExpired},
		{"forged", p + "?exp=1800003600&sig=" + strings.Repeat("A", 43), 403, CodeSignatureInvalid},
		{"other path's sig", p + other[strings.Index(other, "?"):], 403, CodeSignatureInvalid},
		{"exp moved", strings.Replace(valid, "exp=1800003600", "exp=1800007200", 1), 403, CodeSignatureInvalid},
		{"exp padded", strings.Replace(valid, "exp=", "exp=0", 1), 403, CodeSignatureInvalid},
		{"sig twice", valid + "&sig=x", 403, CodeSignatureInvalid},
		{"not base64", p + "?exp=1800003600&sig=!!!", 403, CodeSignatureInvalid},
		{"extra parameter", valid + "&quality=hd", 400, CodeUnexpectedQuery},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", h.srv.URL+tt.target, nil)
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if code := errCode(t, r.body); code != tt.code {
				t.Fatalf("code %q, want %q", code, tt.code)
			}
		})
	}
	if n := h.origin.calls(p); n != 0 {
		t.Errorf("origin called %d times for refused requests", n)
	}
	if r := h.do("GET", h.srv.URL+valid, nil); r.status != 200 {
		t.Errorf("valid URL: %d %s", r.status, r.body)
	}
}

func TestPathRejected(t *testing.T) {
	h := newHarness(t, nil)
	sign := func(decoded string) string { // a valid signature, so only the path check can refuse
		s := h.signer.Sign(decoded, t0.Add(time.Hour))
		return s[strings.Index(s, "?"):]
	}
	for _, tt := range []struct {
		name, raw, decoded string
		status             int
		code               string
	}{
		{"dot-dot", "/api/hls/../../etc/passwd", "/api/hls/../../etc/passwd", 400, CodeBadPath},
		{"encoded dot-dot", "/api/hls/%2e%2e/%2e%2e/etc/passwd", "/api/hls/../../etc/passwd", 400, CodeBadPath},
		{"encoded slash", "/api/hls/a%2F..%2Fb", "/api/hls/a/../b", 400, CodeBadPath},
		{"encoded letter", "/api/hls/%61.ts", "/api/hls/a.ts", 400, CodeBadPath},
		{"NUL", "/api/hls/a%00.ts", "/api/hls/a\x00.ts", 400, CodeBadPath},
		{"newline", "/api/hls/a%0A.ts", "/api/hls/a\n.ts", 400, CodeBadPath},
		{"backslash", "/api/hls/a%5C..%5Cb", "/api/hls/a\\..\\b", 400, CodeBadPath},
		{"double slash", "/api/hls//a.ts", "/api/hls//a.ts", 400, CodeBadPath},
		{"dot segment", "/api/hls/./a.ts", "/api/hls/./a.ts", 400, CodeBadPath},
		{"trailing slash", "/api/hls/a/", "/api/hls/a/", 400, CodeBadPath},
		{"too long", "/api/hls/" + strings.Repeat("a", maxPathLen), "/api/hls/" + strings.Repeat("a", maxPathLen), 400, CodeBadPath},
		{"outside prefixes", "/api/users/1", "/api/users/1", 404, CodeNotFound},
		{"prefix itself", "/api/hls", "/api/hls", 404, CodeNotFound},
		{"prefix dir", "/api/hls/", "/api/hls/", 400, CodeBadPath},
		{"lookalike prefix", "/api/hlsx/a.ts", "/api/hlsx/a.ts", 404, CodeNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.node.ServeHTTP(w, httptest.NewRequest("GET", tt.raw+sign(tt.decoded), nil))
			if w.Code != tt.status {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, tt.status)
			}
			if code := errCode(t, w.Body.Bytes()); code != tt.code {
				t.Fatalf("code %q, want %q", code, tt.code)
			}
		})
	}
	if len(h.origin.requests) != 0 {
		t.Errorf("origin saw %d requests; refused paths must never reach it", len(h.origin.requests))
	}
}

func TestMethods(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/posters/1.jpg"
	h.origin.put(p, []byte("poster"), nil)
	r := h.do("POST", h.url(p), nil)
	if r.status != 405 || errCode(t, r.body) != CodeMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d %s Allow=%q", r.status, r.body, r.header.Get("Allow"))
	}
	r = h.do("HEAD", h.url(p), nil)
	if r.status != 200 || r.header.Get("Content-Length") != "6" || r.header.Get("X-Cache") != "MISS" || h.node.cache.has(p) {
		t.Fatalf("HEAD miss: %d len=%q cache=%q cached=%v; want a pass-through", r.status, r.header.Get("Content-Length"), r.header.Get("X-Cache"), h.node.cache.has(p))
	}
	h.get(p)
	r = h.do("HEAD", h.url(p), nil)
	if r.status != 200 || r.header.Get("Content-Length") != "6" || r.header.Get("X-Cache") != "HIT" || len(r.body) != 0 {
		t.Fatalf("HEAD hit: %d len=%q cache=%q", r.status, r.header.Get("Content-Length"), r.header.Get("X-Cache"))
	}
}

func TestUncacheableResponses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header http.Header
	}{
		{"no-store", http.Header{"Cache-Control": {"no-store"}}},
		{"private", http.Header{"Cache-Control": {"max-age=60, private"}}},
		{"no-cache", http.Header{"Cache-Control": {"No-Cache"}}},
		{"set-cookie", http.Header{"Set-Cookie": {"a=b"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			const p = "/api/hls/5/index.m3u8"
			h.origin.put(p, []byte("#EXTM3U\n"), tt.header)
			for i := range 2 {
				r := h.get(p)
				if r.status != 200 || string(r.body) != "#EXTM3U\n" || r.header.Get("X-Cache") != "MISS" {
					t.Fatalf("request %d: %d %q %s", i, r.status, r.body, r.header.Get("X-Cache"))
				}
				if r.header.Get("Set-Cookie") != "" {
					t.Fatal("Set-Cookie relayed to the viewer")
				}
			}
			if n := h.origin.calls(p); n != 2 {
				t.Errorf("origin called %d times, want 2: nothing cached", n)
			}
			if _, objs := h.node.cache.stats(); objs != 0 {
				t.Errorf("%d objects cached", objs)
			}
		})
	}
}

func TestOriginFailures(t *testing.T) {
	for _, tt := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		down   bool
		status int
		code   string
		kind   string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, false, 502, CodeOriginError, "status"},
		{"503", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", http.StatusServiceUnavailable) }, false, 502, CodeOriginError, "status"},
		{"token refused", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "who?", http.StatusUnauthorized) }, false, 502, CodeOriginAuth, "auth"},
		{"down", nil, true, 502, CodeOriginUnreachable, "unreachable"},
		{"404 relayed", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, false, 404, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.origin.handle = tt.handle
			if tt.down {
				h.origin.srv.Close()
			}
			const p = "/api/posters/8.jpg"
			r := h.get(p)
			if r.status != tt.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.body, tt.status)
			}
			if tt.code != "" {
				if code := errCode(t, r.body); code != tt.code {
					t.Fatalf("code %q, want %q", code, tt.code)
				}
				if !strings.Contains(string(r.body), "check") {
					t.Errorf("message %s does not say what to check", r.body)
				}
				if got := counter(h.node.m.originErrors.WithLabelValues(tt.kind)); got != 1 {
					t.Errorf("origin_errors{kind=%s} = %v, want 1", tt.kind, got)
				}
			}
			if h.node.cache.has(p) {
				t.Error("failure was cached")
			}
		})
	}
}

func TestOriginBodyBreaks(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/downloads/2/f.mkv"
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(payload(5000, 1))
		panic(http.ErrAbortHandler) // the origin dies mid-body
	}
	r := h.get(p)
	if r.err == nil && len(r.body) == 100000 {
		t.Fatal("viewer got a complete body from a broken origin")
	}
	if h.node.cache.has(p) {
		t.Fatal("truncated body was cached")
	}
	if counter(h.node.m.originErrors.WithLabelValues("body")) != 1 {
		t.Error("body error not counted")
	}
	assertNoTempFiles(t, h.dir)
}

func TestSecretsNeverLogged(t *testing.T) {
	h := newHarness(t, nil)
	h.node.cache.createTemp = func(dir, pattern string) (tempFile, error) { return nil, errors.New("disk on fire") }
	h.origin.put("/api/hls/1/a.ts", payload(1000, 1), nil)
	h.get("/api/hls/1/a.ts")                                     // miss with a write failure
	h.get("/api/hls/1/missing.ts")                               // origin 404
	h.do("GET", h.srv.URL+"/api/hls/1/a.ts?exp=1&sig=AAAA", nil) // forged
	h.origin.srv.Close()
	h.get("/api/hls/1/b.ts") // origin down
	logs := h.logs.String()
	for _, want := range []string{"cache write failed", "origin failed", "/api/hls/1/b.ts"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	// newHarness's cleanup fails the test if the token or a signature shows.
	if strings.Contains(logs, testToken) || strings.Contains(logs, "Bearer") {
		t.Errorf("origin credential in logs:\n%s", logs)
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/hls/3/seg1.ts"
	h.origin.put(p, []byte("ts"), http.Header{"Access-Control-Allow-Origin": {"http://evil.example"}})
	r := h.do("OPTIONS", h.url(p), http.Header{"Origin": {"http://127.0.0.1:8080"}, "Access-Control-Request-Method": {"GET"},
		"Access-Control-Request-Headers": {"range"}})
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Range") {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	for _, target := range []string{h.url(p), h.url(p), h.srv.URL + p} { // miss, hit, error
		r := h.do("GET", target, http.Header{"Origin": {"http://127.0.0.1:8080"}})
		if r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %d: CORS %q nosniff %q", r.status, r.header.Get("Access-Control-Allow-Origin"), r.header.Get("X-Content-Type-Options"))
		}
	}
	if r := h.do("OPTIONS", h.url(p), nil); r.status != 405 {
		t.Errorf("bare OPTIONS: %d, want 405", r.status)
	}
}

func TestLeaderLeavesFollowerServed(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/api/hls/4/seg9.ts"
	body := payload(200_000, 8)
	gate := make(chan struct{})
	var calls atomicCounter
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		first := calls.add() == 1
		w.Header().Set("Content-Length", "200000")
		w.WriteHeader(200)
		_, _ = w.Write(body[:1000])
		w.(http.Flusher).Flush()
		if first {
			select { // the first fetch stalls until its viewer gives up
			case <-gate:
			case <-r.Context().Done():
			}
		}
		_, _ = w.Write(body[1000:])
	}
	ctx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", h.url(p), nil)
		resp, err := h.srv.Client().Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		leaderDone <- err
	}()
	waitFor(t, "the leader's fill", func() bool { return counter(h.node.m.fillsInFlight) == 1 })
	follower := make(chan result, 1)
	go func() { follower <- h.doNoWait("GET", h.url(p), nil) }()
	waitFor(t, "the follower", func() bool { return counter(h.node.m.coalesced) == 1 })
	cancel()
	if err := <-leaderDone; err == nil {
		t.Error("leader's request should have been cancelled")
	}
	r := <-follower
	close(gate)
	waitFor(t, "the refill to settle", func() bool { return counter(h.node.m.fillsInFlight) == 0 })
	if r.status != 200 || !bytes.Equal(r.body, body) {
		t.Fatalf("follower: %d, %d bytes", r.status, len(r.body))
	}
	if calls.get() != 2 || !h.node.cache.has(p) {
		t.Errorf("origin calls %d, cached %v; want the follower to refill", calls.get(), h.node.cache.has(p))
	}
	assertNoTempFiles(t, h.dir)
}

func TestFollowersSkipLongFills(t *testing.T) {
	h := newHarness(t, nil)
	h.node.waitMax = 100_000 // pretend 200 kB is a whole film
	const p = "/api/downloads/5/film.mkv"
	body := payload(200_000, 6)
	gate := make(chan struct{})
	var calls atomicCounter
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		first := calls.add() == 1
		w.Header().Set("Content-Length", "200000")
		w.WriteHeader(200)
		_, _ = w.Write(body[:1000])
		w.(http.Flusher).Flush()
		if first {
			<-gate
		}
		_, _ = w.Write(body[1000:])
	}
	leader := make(chan result, 1)
	go func() { leader <- h.doNoWait("GET", h.url(p), nil) }()
	waitFor(t, "the leader's fill", func() bool { return calls.get() == 1 })
	// The leader is stalled; a second viewer is served straight away.
	if r := h.doNoWait("GET", h.url(p), nil); r.status != 200 || !bytes.Equal(r.body, body) || r.header.Get("X-Cache") != "MISS" {
		close(gate)
		t.Fatalf("second viewer: %d %s, %d bytes %.200s", r.status, r.header.Get("X-Cache"), len(r.body), r.body)
	}
	close(gate)
	if r := <-leader; r.status != 200 || !bytes.Equal(r.body, body) {
		t.Fatalf("leader: %d, %d bytes", r.status, len(r.body))
	}
	waitFor(t, "the fill to settle", func() bool { return counter(h.node.m.fillsInFlight) == 0 })
	if !h.node.cache.has(p) {
		t.Error("the leader's fill was not cached")
	}
}

// atomicCounter counts origin calls from handler goroutines.
type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) add() int { c.mu.Lock(); defer c.mu.Unlock(); c.n++; return c.n }
func (c *atomicCounter) get() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

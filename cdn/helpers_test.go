package cdn

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testToken  = "origin-token-0123456789-never-logged"
	testSecret = "test-url-secret-32-bytes-long!!!"
)

// t0 is the fixed time the test nodes live at.
var t0 = time.Unix(1_800_000_000, 0)

// fakeOrigin is a stand-in for cmd/api: it serves objects by path with
// http.ServeContent, records every request, and can be told to misbehave.
type fakeOrigin struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	objects  map[string][]byte
	header   map[string]http.Header // extra response headers by path
	requests []*http.Request
	// handle, when set, answers instead of the object store.
	handle func(w http.ResponseWriter, r *http.Request)
}

func newFakeOrigin(t testing.TB) *fakeOrigin {
	o := &fakeOrigin{t: t, objects: map[string][]byte{}, header: map[string]http.Header{}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *fakeOrigin) put(path string, body []byte, h http.Header) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[path] = body
	if h != nil {
		o.header[path] = h
	}
}

func (o *fakeOrigin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.requests = append(o.requests, r.Clone(r.Context()))
	handle := o.handle
	body, ok := o.objects[r.URL.Path]
	h := o.header[r.URL.Path]
	o.mu.Unlock()
	if handle != nil {
		handle(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "video/mp2t")
	}
	w.Header().Set("ETag", `"v1-`+strings.ReplaceAll(r.URL.Path, "/", "-")+`"`)
	http.ServeContent(w, r, "", t0.Add(-time.Hour), bytes.NewReader(body))
}

// calls counts the origin requests for path.
func (o *fakeOrigin) calls(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.requests {
		if r.URL.Path == path {
			n++
		}
	}
	return n
}

func (o *fakeOrigin) lastRequest() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests[len(o.requests)-1]
}

// harness is a node in front of a fake origin, served over loopback.
type harness struct {
	t      testing.TB
	origin *fakeOrigin
	node   *Node
	srv    *httptest.Server
	signer *Signer
	reg    *prometheus.Registry
	logs   *syncBuffer
	dir    string
}

// syncBuffer is a bytes.Buffer safe for the concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness builds a node with a 64 MiB budget; tweak may edit its params
// and the node before it serves.
func newHarness(t testing.TB, tweak func(*Params)) *harness {
	t.Helper()
	h := &harness{t: t, origin: newFakeOrigin(t), reg: prometheus.NewRegistry(), logs: &syncBuffer{}, dir: t.TempDir()}
	var err error
	if h.signer, err = NewSigner([]byte(testSecret)); err != nil {
		t.Fatal(err)
	}
	h.node = h.open(tweak)
	h.srv = httptest.NewServer(h.node)
	t.Cleanup(func() {
		h.srv.Close()
		h.node.client.CloseIdleConnections()
		if logs := h.logs.String(); strings.Contains(logs, testToken) || strings.Contains(logs, "sig=") {
			t.Errorf("logs reveal the origin token or a URL signature:\n%s", logs)
		}
	})
	return h
}

// open builds a node on h's dir, origin and logs with a fresh registry.
func (h *harness) open(tweak func(*Params)) *Node {
	h.t.Helper()
	u, _ := url.Parse(h.origin.srv.URL)
	h.reg = prometheus.NewRegistry()
	p := Params{Origin: u, OriginToken: testToken, CacheDir: h.dir, MaxBytes: 64 << 20, Signer: h.signer,
		Logger:     slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: h.reg, Now: func() time.Time { return t0 }}
	if tweak != nil {
		tweak(&p)
	}
	n, err := New(p)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// url returns the signed node URL for path, valid for an hour.
func (h *harness) url(path string) string {
	return h.srv.URL + h.signer.Sign(path, t0.Add(time.Hour))
}

type result struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (h *harness) do(method, rawURL string, hdr http.Header) result {
	h.t.Helper()
	r := h.doNoWait(method, rawURL, hdr)
	// The viewer has every byte before the fill publishes the object; wait
	// for that so the next request sees a settled cache.
	waitFor(h.t, "fills to settle", func() bool { return counter(h.node.m.fillsInFlight) == 0 })
	return r
}

// doNoWait makes a request without waiting for fills to settle; safe to
// call from any goroutine.
func (h *harness) doNoWait(method, rawURL string, hdr http.Header) result {
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		return result{err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func (h *harness) get(path string) result {
	h.t.Helper()
	return h.do(http.MethodGet, h.url(path), nil)
}

// errCode decodes a JSON error body's code.
func errCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("body %q is not a JSON {code,message} error", body)
	}
	return e.Code
}

func counter(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

// waitFor polls cond; the deadline only guards against a hang and is not
// an assertion about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// payload returns n deterministic bytes.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

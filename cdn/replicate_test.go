package cdn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/httpx"
)

// countOrigin makes h's origin serve its objects itself, counting the body
// bytes it sends in total.
func countOrigin(h *harness) *atomic.Int64 {
	var sent atomic.Int64
	o := h.origin
	o.mu.Lock()
	defer o.mu.Unlock()
	o.handle = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		o.mu.Lock()
		body, ok := o.objects[r.URL.Path]
		o.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		cw := &httpx.CountingWriter{ResponseWriter: w}
		http.ServeContent(cw, r, "", t0.Add(-time.Hour), bytesReader(body))
		sent.Add(cw.N)
	}
	return &sent
}

func bytesReader(b []byte) io.ReadSeeker { return io.NewSectionReader(readerAt(b), 0, int64(len(b))) }

type readerAt []byte

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r)) {
		return 0, io.EOF
	}
	n := copy(p, r[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// pair is a peer node that holds key (filled by a viewer through it) and a
// second node, on the same origin, that will replicate key.
type pair struct {
	peer, node *harness
	originSent *atomic.Int64
	key        string
	body       []byte
}

func newPair(t *testing.T, size int) *pair {
	t.Helper()
	p := &pair{key: "/api/hls/7/v1/720p/s/3.m4s", body: payload(size, 3)}
	p.peer = newHarness(t, func(pp *Params) { pp.MaxBytes = 256 << 20 })
	p.originSent = countOrigin(p.peer)
	p.peer.origin.put(p.key, p.body, nil)
	if r := p.peer.get(p.key); r.status != http.StatusOK || len(r.body) != size {
		t.Fatalf("filling the peer: %d, %d bytes", r.status, len(r.body))
	}
	u, _ := url.Parse(p.peer.origin.srv.URL)
	p.node = newHarness(t, func(pp *Params) { pp.Origin = u; pp.MaxBytes = 256 << 20 })
	p.node.node.repl.chunk = 1 << 20
	t.Cleanup(p.node.node.client.CloseIdleConnections)
	return p
}

// peerURL is the peer's PeerPrefix URL for key, signed as the API would.
func (p *pair) peerURL(base string) string {
	return base + p.peer.signer.Sign(cdnwire.PeerPrefix+p.key, t0.Add(time.Hour))
}

func (p *pair) task(sources ...string) cdnwire.Task {
	return cdnwire.Task{ID: "t1", Kind: cdnwire.TaskReplicate, ItemID: 7, Objects: []cdnwire.TaskObject{{
		Key: p.key, Bytes: int64(len(p.body)), SHA256: sha256Hex(p.body), Sources: sources}}}
}

// checkHeld asserts the node serves key with the origin's bytes from its cache.
func (p *pair) checkHeld(t *testing.T) {
	t.Helper()
	r := p.node.get(p.key)
	if r.status != http.StatusOK || r.header.Get("X-Cache") != "HIT" || sha256Hex(r.body) != sha256Hex(p.body) {
		t.Fatalf("replicated object: status %d, X-Cache %q, sha256 ok %v", r.status, r.header.Get("X-Cache"), sha256Hex(r.body) == sha256Hex(p.body))
	}
}

func TestReplicateFromPeerTakesNothingFromOrigin(t *testing.T) {
	p := newPair(t, 5<<20+123)
	before := p.originSent.Load()
	res := p.node.node.RunTask(context.Background(), p.task(p.peerURL(p.peer.srv.URL), p.peer.origin.srv.URL+p.key))
	if res.Error != "" || res.TaskID != "t1" {
		t.Fatalf("task result %+v", res)
	}
	if got := p.originSent.Load() - before; got != 0 {
		t.Fatalf("origin sent %d bytes during replication from a peer, want 0", got)
	}
	peer, origin := p.node.node.ReplicatedBytes()
	if peer != int64(len(p.body)) || origin != 0 {
		t.Fatalf("replicated bytes: peer %d origin %d, want %d and 0", peer, origin, len(p.body))
	}
	if got := counter(p.node.node.repl.bytes.WithLabelValues("peer")); got != float64(len(p.body)) {
		t.Fatalf("replicated_bytes_total{source=peer} = %v", got)
	}
	p.checkHeld(t)
	if p.originSent.Load() != before {
		t.Fatal("the replicated copy was served from the origin, not the cache")
	}
	if len(p.node.node.Fetching()) != 0 || len(p.node.node.TakeRefusals()) != 0 {
		t.Fatal("nothing should be fetching or refused after a clean replication")
	}
}

func TestReplicateRefusesCorruptPeerObject(t *testing.T) {
	p := newPair(t, 3<<20)
	// Corrupt one byte of the peer's published copy on disk.
	e := p.peer.node.cache.index[p.key]
	f, err := os.OpenFile(filepath.Join(p.peer.dir, e.name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{^p.body[1000]}, e.bodyOff+1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before := p.originSent.Load()
	peerHost := "node-a"
	task := p.task(p.peerURL(p.peer.srv.URL), p.peer.origin.srv.URL+p.key)
	task.Objects[0].SourceNodes = []string{peerHost, "origin"}
	res := p.node.node.RunTask(context.Background(), task)
	if res.Error != "" {
		t.Fatalf("task failed: %s", res.Error)
	}
	p.checkHeld(t)
	if got := p.originSent.Load() - before; got != int64(len(p.body)) {
		t.Fatalf("origin sent %d bytes, want the whole object (%d) after the peer's copy was refused", got, len(p.body))
	}
	refs := p.node.node.TakeRefusals()
	if len(refs) != 1 || refs[0].Key != p.key || refs[0].Peer != peerHost {
		t.Fatalf("refusals %+v, want one for %s from %s", refs, p.key, peerHost)
	}
	if !p.node.node.isRefused(p.key, peerHost) || len(p.node.node.TakeRefusals()) != 0 {
		t.Fatal("the refusal must be remembered and reported once")
	}
	if got := counter(p.node.node.repl.refused); got != 1 {
		t.Fatalf("replication_refused_total = %v", got)
	}
	if _, err := os.Stat(filepath.Join(p.node.dir, objectName(p.key)+partSuffix)); !os.IsNotExist(err) {
		t.Fatalf("the partial file should be gone: %v", err)
	}
}

// cutProxy relays TCP to target, closing the first connection after limit
// bytes of the answer.
func cutProxy(t *testing.T, target string, limit int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	var first atomic.Bool
	first.Store(true)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			cut := first.Swap(false)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				wg.Add(1)
				go func() { defer wg.Done(); _, _ = io.Copy(up, c); up.Close() }()
				if cut {
					_, _ = io.CopyN(c, up, limit)
					return
				}
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestReplicateResumesInterruptedPeerTransfer(t *testing.T) {
	p := newPair(t, 6<<20)
	p.node.node.repl.chunk = 4 << 20
	proxy := cutProxy(t, p.peer.srv.Listener.Addr().String(), 1<<20+512)
	before := p.originSent.Load()
	res := p.node.node.RunTask(context.Background(), p.task(p.peerURL(proxy), p.peer.origin.srv.URL+p.key))
	if res.Error != "" {
		t.Fatalf("task failed: %s", res.Error)
	}
	p.checkHeld(t)
	peer, origin := p.node.node.ReplicatedBytes()
	if peer != int64(len(p.body)) || origin != 0 || p.originSent.Load() != before {
		t.Fatalf("fetched %d bytes from the peer and %d from the origin for a %d-byte object: the cut transfer did not resume", peer, origin, len(p.body))
	}
}

// A task stopped mid-object (the node stopping) leaves its partial file;
// the node restarted on the same dir resumes from it.
func TestReplicateResumesAfterRestart(t *testing.T) {
	p := newPair(t, 5<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reqs atomic.Int32
	target := p.peer.srv.URL
	stopper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reqs.Add(1) > 1 {
			cancel() // the node stops after its first chunk
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		resp, err := http.DefaultClient.Do(mustReq(t, target+r.URL.RequestURI(), r.Header))
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	defer stopper.Close()
	defer http.DefaultClient.CloseIdleConnections()
	res := p.node.node.RunTask(ctx, p.task(p.peerURL(stopper.URL)))
	if res.Error == "" {
		t.Fatal("the stopped task reported success")
	}
	st, err := os.Stat(filepath.Join(p.node.dir, objectName(p.key)+partSuffix))
	if err != nil || st.Size() < 1<<20 {
		t.Fatalf("the partial file should hold the first chunk: %v", err)
	}
	p.node.node.client.CloseIdleConnections()
	restarted := p.node.open(nil)
	restarted.repl.chunk = 1 << 20
	defer restarted.client.CloseIdleConnections()
	if res := restarted.RunTask(context.Background(), p.task(p.peerURL(p.peer.srv.URL))); res.Error != "" {
		t.Fatalf("resumed task: %s", res.Error)
	}
	if peer, _ := restarted.ReplicatedBytes(); peer != int64(len(p.body))-1<<20 {
		t.Fatalf("the restarted node fetched %d bytes, want the %d it lacked", peer, len(p.body)-1<<20)
	}
	if !restarted.cache.has(p.key) {
		t.Fatal("the resumed object was not published")
	}
}

func mustReq(t *testing.T, u string, h http.Header) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h.Clone()
	return req
}

// A node holding part of an item (here one of two segments, filled by a
// viewer) fetches only the rest, and from the peer.
func TestReplicateFillsOnlyMissingObjects(t *testing.T) {
	p := newPair(t, 2<<20)
	held := "/api/hls/7/v1/720p/s/2.m4s"
	heldBody := payload(1<<20, 9)
	p.peer.origin.put(held, heldBody, nil)
	if r := p.node.get(held); r.status != http.StatusOK {
		t.Fatalf("viewer fill: %d", r.status)
	}
	before := p.originSent.Load()
	task := p.task(p.peerURL(p.peer.srv.URL), p.peer.origin.srv.URL+p.key)
	task.Objects = append([]cdnwire.TaskObject{{Key: held, Bytes: int64(len(heldBody)), SHA256: sha256Hex(heldBody),
		Sources: []string{p.peer.origin.srv.URL + held}}}, task.Objects...)
	if res := p.node.node.RunTask(context.Background(), task); res.Error != "" {
		t.Fatal(res.Error)
	}
	if peer, origin := p.node.node.ReplicatedBytes(); peer != int64(len(p.body)) || origin != 0 || p.originSent.Load() != before {
		t.Fatalf("fetched %d from the peer and %d from the origin; want only the missing %d bytes, from the peer", peer, origin, len(p.body))
	}
	p.checkHeld(t)
}

package cdnbench

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marquee-party/marquee/cdn"
)

// prefix is the cached route the objects live under, as HLS segments do.
const prefix = "/api/hls/bench/"

// rig is the origin, the node in front of it and the clients, all on
// loopback, with the node's cache in a temp dir.
type rig struct {
	dir    string
	token  string
	signer *cdn.Signer
	bodies map[int64][]byte

	origin, node *server
	// toOrigin is the node's client; viewer is the benchmark's.
	toOrigin, viewer *http.Client

	mu      sync.Mutex
	fetches map[string]int // origin requests by path
}

// server is one loopback HTTP server and its Serve goroutine.
type server struct {
	srv  *http.Server
	base string
	done chan struct{}
}

func startRig(sizes []int64, concurrency int) (r *rig, err error) {
	r = &rig{token: rand.Text(), bodies: map[int64][]byte{}, fetches: map[string]int{}}
	if r.dir, err = os.MkdirTemp("", "marquee-cdnbench-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if r.signer, err = cdn.NewSigner([]byte(rand.Text())); err != nil {
		return nil, err
	}
	var seed [32]byte
	for i, size := range sizes {
		seed[0] = byte(i)
		b := make([]byte, size)
		_, _ = mrand.NewChaCha8(seed).Read(b) // incompressible, like media
		r.bodies[size] = b
	}
	r.toOrigin = newClient(concurrency)
	r.viewer = newClient(concurrency)
	if r.origin, err = serve(http.HandlerFunc(r.serveOrigin)); err != nil {
		return nil, err
	}
	originURL, err := url.Parse(r.origin.base)
	if err != nil {
		return nil, err
	}
	node, err := cdn.New(cdn.Params{Origin: originURL, OriginToken: r.token, CacheDir: r.dir,
		MaxBytes: 4 * MaxSize, Signer: r.signer, Client: r.toOrigin,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if r.node, err = serve(node); err != nil {
		return nil, err
	}
	return r, nil
}

// newClient keeps enough idle connections for every concurrent client,
// and neither compresses nor follows redirects, as the node's own does.
func newClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   conns + 4,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		base: "http://" + ln.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // ErrServerClosed after shutdown
	}()
	return s, nil
}

func (s *server) shutdown() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// close stops the servers (node first), drops idle connections and
// removes the cache directory.
func (r *rig) close() {
	r.node.shutdown()
	r.origin.shutdown()
	for _, c := range []*http.Client{r.toOrigin, r.viewer} {
		if c != nil {
			c.CloseIdleConnections()
		}
	}
	_ = os.RemoveAll(r.dir)
}

// serveOrigin answers prefix<size>/<name> with the generated body of that
// size, with Content-Length and an ETag, to the node's token only.
func (r *rig) serveOrigin(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Authorization") != "Bearer "+r.token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	sizeText, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, prefix), "/")
	size, _ := strconv.ParseInt(sizeText, 10, 64)
	body, ok := r.bodies[size]
	if !ok || !strings.HasPrefix(req.URL.Path, prefix) {
		http.NotFound(w, req)
		return
	}
	r.mu.Lock()
	r.fetches[req.URL.Path]++
	r.mu.Unlock()
	w.Header().Set("Content-Type", "video/mp2t")
	w.Header().Set("ETag", `"bench-`+sizeText+`"`)
	http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(body))
}

func objectPath(size int64, name string) string {
	return prefix + strconv.FormatInt(size, 10) + "/" + name + ".ts"
}

func (r *rig) originURL(size int64, name string) string {
	return r.origin.base + objectPath(size, name)
}

// nodeURL is a signed viewer URL, valid for an hour.
func (r *rig) nodeURL(size int64, name string) string {
	return r.node.base + r.signer.Sign(objectPath(size, name), time.Now().Add(time.Hour))
}

func (r *rig) originFetches(size int64, name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches[objectPath(size, name)]
}

// get fetches u to the last byte and checks the status, the length and,
// when wantCache is set, the node's X-Cache answer.
func (r *rig) get(ctx context.Context, u string, size int64, wantCache string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(u, r.node.base) {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	start := time.Now()
	resp, err := r.viewer.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	switch {
	case err != nil:
		return 0, err
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("GET %s: status %d", objectPathOf(u), resp.StatusCode)
	case n != size:
		return 0, fmt.Errorf("GET %s: %d bytes, want %d", objectPathOf(u), n, size)
	case wantCache != "" && resp.Header.Get("X-Cache") != wantCache:
		return 0, fmt.Errorf("GET %s: X-Cache %q, want %q", objectPathOf(u), resp.Header.Get("X-Cache"), wantCache)
	}
	return took, nil
}

// objectPathOf strips the host and the signature from u for messages.
func objectPathOf(u string) string {
	p, _, _ := strings.Cut(u, "?")
	if i := strings.Index(p, prefix); i >= 0 {
		return p[i:]
	}
	return p
}

// throughput fetches u one request after another until runBytes have
// arrived (at least 4 requests, at most maxRunRequests) and returns MB/s
// (10^6 bytes, as go test prints).
func (r *rig) throughput(ctx context.Context, u string, size int64, wantCache string) (float64, error) {
	reqs := min(max(4, runBytes/size), maxRunRequests)
	var total time.Duration
	for range reqs {
		d, err := r.get(ctx, u, size, wantCache)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return float64(reqs*size) / 1e6 / total.Seconds(), nil
}

// coalesce lets clients ask for one cold object at once and returns the
// time until the last has the whole body, and how often the origin was
// asked for it.
func (r *rig) coalesce(ctx context.Context, size int64, name string, clients int) (time.Duration, int, error) {
	u := r.nodeURL(size, name)
	start := make(chan struct{})
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			<-start
			_, err := r.get(ctx, u, size, "")
			errs <- err
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(t0)
	close(errs)
	for err := range errs {
		if err != nil {
			return 0, 0, err // the first; the others are usually the same
		}
	}
	return took, r.originFetches(size, name), nil
}

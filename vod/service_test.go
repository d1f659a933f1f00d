package vod

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod/segcache"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fixture struct {
	t     *testing.T
	root  library.Root
	path  string
	cache string
	svc   *Service
	reg   *prometheus.Registry
}

// newFixture puts the 23.976 fps clip into a library root and starts a
// service with 2 s segments on a fresh cache.
func newFixture(t *testing.T, lookahead int) *fixture {
	dir := t.TempDir()
	if err := os.Rename(film2397(t), filepath.Join(dir, "film.mp4")); err != nil {
		t.Fatal(err)
	}
	root, err := library.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, root: root, path: filepath.Join(dir, "film.mp4"), cache: t.TempDir()}
	fx.start(lookahead)
	return fx
}

func (fx *fixture) start(lookahead int) {
	cfg := DefaultConfig()
	cfg.CacheDir, cfg.SegmentSeconds, cfg.Lookahead = fx.cache, 2, lookahead
	fx.reg = prometheus.NewRegistry()
	svc, err := New(cfg, fx.reg, nil)
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.svc = svc
	fx.t.Cleanup(svc.Close)
}

func (fx *fixture) encodes() int {
	return int(testutil.ToFloat64(fx.svc.m.encodes.WithLabelValues("240p")))
}

func (fx *fixture) get(k int) []byte {
	fx.t.Helper()
	it, err := fx.svc.item(fx.root, fx.path)
	if err != nil {
		fx.t.Fatal(err)
	}
	f, err := fx.svc.object(context.Background(), it, "240p", k)
	if err != nil {
		fx.t.Fatalf("segment %d: %v", k, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		fx.t.Fatal(err)
	}
	return b
}

func TestTwoViewersAndASeekEncodeEachSegmentOnce(t *testing.T) {
	fx := newFixture(t, 1)
	// Viewer one seeks to segment 3 first; viewer two plays from the start
	// at the same time; then viewer one goes back to the start.
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for _, k := range []int{segcache.InitIndex, 3, 4, 0, 1, 2} {
			fx.get(k)
		}
	}()
	go func() {
		defer wg.Done()
		for k := segcache.InitIndex; k < 5; k++ {
			fx.get(k)
		}
	}()
	wg.Wait()
	if got := fx.encodes(); got != 6 {
		t.Fatalf("%d encodes for 5 segments and an init segment, want 6", got)
	}
	// A restart serves everything from disk.
	fx.svc.Close()
	fx.start(1)
	for k := segcache.InitIndex; k < 5; k++ {
		fx.get(k)
	}
	if got := fx.encodes(); got != 0 {
		t.Fatalf("%d encodes after a restart, want 0", got)
	}
}

func TestConcurrentColdRequestsCoalesce(t *testing.T) {
	fx := newFixture(t, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := fx.get(2)
			mu.Lock()
			seen[string(b)] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got := fx.encodes(); got != 1 || len(seen) != 1 {
		t.Fatalf("10 concurrent requests: %d encodes, %d distinct answers; want 1 and 1", got, len(seen))
	}
}

func TestSourceChangedUnderTheCache(t *testing.T) {
	fx := newFixture(t, 0)
	old := fx.get(0)
	// Replace the file with different content and a new mtime.
	other := vfrClip(t)
	b, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fx.path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	_ = os.Chtimes(fx.path, later, later)
	fresh := fx.get(0)
	if string(fresh) == string(old) {
		t.Fatal("the changed file was served from the old cache entry")
	}
	if fx.svc.cache.Len() != 1 {
		t.Fatalf("cache holds %d objects, want only the new segment", fx.svc.cache.Len())
	}
}

func testutilCount(fx *fixture, reason string) float64 {
	return testutil.ToFloat64(fx.svc.m.failures.WithLabelValues(reason))
}

// TestLookaheadThenStop: a request for segment 0 encodes it and the
// lookahead (2 more), no further; with nobody asking, the encoder goroutine
// then leaves.
func TestLookaheadThenStop(t *testing.T) {
	fx := newFixture(t, 2)
	fx.svc.cfg.Idle = 10 * time.Millisecond
	fx.get(0)
	deadline := time.Now().Add(time.Minute) // a bound on a hung test
	for {
		fx.svc.mu.Lock()
		n := len(fx.svc.encoders)
		fx.svc.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the encoder never stopped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	it, err := fx.svc.item(fx.root, fx.path)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := findRendition(it.tl, "240p")
	for k := 0; k < it.tl.Segments(); k++ {
		if got, want := fx.svc.cache.Has(fx.svc.key(it, r, k)), k <= 2; got != want {
			t.Errorf("segment %d cached = %v, want %v", k, got, want)
		}
	}
	if got := fx.encodes(); got != 3 {
		t.Errorf("%d encodes, want 3", got)
	}
}

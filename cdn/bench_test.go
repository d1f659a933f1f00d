package cdn

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
)

// Run with: go test -run '^$' -bench . -benchtime 2s ./cdn
// Every figure goes through real loopback HTTP. BenchmarkOriginDirect is
// the comparison: the same bytes from an in-memory origin with no cache in
// between, i.e. the cost of the HTTP hop itself.

var benchSizes = []int{64 << 10, 1 << 20, 8 << 20}

// benchOrigin makes the fake origin answer every path with body.
func benchOrigin(h *harness, body []byte) {
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		w.Header().Set("ETag", `"bench"`)
		http.ServeContent(w, r, "", t0, bytes.NewReader(body))
	}
	// The fake records requests for assertions; benchmarks must not grow it.
	h.origin.requests = nil
}

func fetchAll(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("GET: %d %v", resp.StatusCode, err)
	}
}

// BenchmarkHit measures serving a cached object (http.ServeContent from
// disk) from one client and from GOMAXPROCS parallel clients.
func BenchmarkHit(b *testing.B) {
	for _, size := range benchSizes {
		h := newHarness(b, nil)
		benchOrigin(h, payload(size, 1))
		u := h.url("/api/hls/1/seg.ts")
		fetchAll(b, h.srv.Client(), u) // fill
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				fetchAll(b, h.srv.Client(), u)
			}
		})
		b.Run(fmt.Sprintf("size=%dKiB/parallel", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					fetchAll(b, h.srv.Client(), u)
				}
			})
		})
	}
}

// BenchmarkMiss measures the fill path: a new key each time, fetched from
// the origin, streamed to the viewer, written to disk and renamed into
// place, with eviction keeping the cache at 64 MiB.
func BenchmarkMiss(b *testing.B) {
	for _, size := range benchSizes {
		h := newHarness(b, func(p *Params) { p.MaxBytes = 64 << 20 })
		benchOrigin(h, payload(size, 2))
		var seq atomic.Int64
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				fetchAll(b, h.srv.Client(), h.url("/api/hls/1/seg"+strconv.FormatInt(seq.Add(1), 10)+".ts"))
			}
		})
	}
}

// BenchmarkOriginDirect is the baseline: the origin over loopback, no node.
func BenchmarkOriginDirect(b *testing.B) {
	for _, size := range benchSizes {
		h := newHarness(b, nil)
		benchOrigin(h, payload(size, 3))
		c := h.origin.srv.Client()
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				fetchAll(b, c, h.origin.srv.URL+"/api/hls/1/seg.ts")
			}
		})
	}
}

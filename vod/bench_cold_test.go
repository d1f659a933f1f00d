package vod

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
)

// benchServer is a vod service and handler over one file in a library
// root, on a loopback HTTP server, with a fresh cache unless dir is given.
type benchServer struct {
	svc  *Service
	h    *Handler
	srv  *httptest.Server
	root library.Root
	path string
}

func newBenchServer(tb testing.TB, path, cacheDir string) *benchServer {
	tb.Helper()
	root, err := library.NewRoot(filepath.Dir(path))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CacheDir = cacheDir
	svc, err := New(cfg, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	signer, _ := cdn.NewSigner([]byte("vod-bench-secret-0123"))
	resolve := func(context.Context, int64) (Opener, string, error) { return root, path, nil }
	bs := &benchServer{svc: svc, root: root, path: path}
	bs.h = NewHandler(svc, signer, resolve, nil)
	bs.srv = httptest.NewServer(bs.h)
	return bs
}

func (bs *benchServer) close() {
	bs.srv.Close()
	bs.svc.Close()
}

// get fetches a path of bs and returns its body; it fails tb on a non-200.
func (bs *benchServer) get(tb testing.TB, path string) []byte {
	resp, err := http.Get(bs.srv.URL + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("%s: %d %v %s", path, resp.StatusCode, err, b)
	}
	return b
}

// coldStart is one viewer's start on a cold server: the master playlist,
// rendition name's media playlist, its init segment and segment 0, to the
// last byte.
func (bs *benchServer) coldStart(tb testing.TB, name string) time.Duration {
	start := time.Now()
	media, _ := uris(string(bs.get(tb, bs.h.MasterURL(1))))
	var pl string
	for _, m := range media {
		if strings.Contains(m, "/"+name+"/") {
			pl = m
		}
	}
	if pl == "" {
		tb.Fatalf("no rendition %s in %v", name, media)
	}
	objs, _ := uris(string(bs.get(tb, pl)))
	bs.get(tb, objs[0])
	bs.get(tb, objs[1])
	return time.Since(start)
}

// BenchmarkColdStart measures, for the 10 s 1080p30 bench clip, the time
// from the first playlist request to the last byte of the first segment
// (issue #14's cold start) over loopback HTTP, each run on a fresh cache
// and a fresh service (the timeline scan included), alternating the
// renditions; it reports the median of 5 runs of each.
//
//	go test -run '^$' -bench ColdStart -benchtime 1x ./vod/
func BenchmarkColdStart(b *testing.B) {
	path := testmedia.Generate(b, testmedia.Bench1080p)
	names := []string{remuxName, "720p"}
	times, cpu := map[string][]time.Duration{}, map[string][]time.Duration{}
	for i := 0; i < 5*b.N; i++ {
		for _, name := range names {
			dir, err := os.MkdirTemp("", "marquee-vod-cold-")
			if err != nil {
				b.Fatal(err)
			}
			bs := newBenchServer(b, path, dir)
			c0 := processCPU()
			times[name] = append(times[name], bs.coldStart(b, name))
			cpu[name] = append(cpu[name], processCPU()-c0)
			bs.close()
			_ = os.RemoveAll(dir)
		}
	}
	for _, name := range names {
		m := median(times[name])
		b.ReportMetric(float64(m.Microseconds())/1000, "ms-"+name)
		c := median(cpu[name])
		b.ReportMetric(float64(c.Microseconds())/1000, "cpu-ms-"+name)
		b.Logf("cold start %s (playlist request to first segment's last byte): median %v of %v; CPU %v (on a busy machine the wall time is the CPU time over the cores this process gets)",
			name, m.Round(time.Millisecond), times[name], c.Round(time.Millisecond))
	}
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

package cdn

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"net/http/httptest"
)

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, tempPattern))
	if len(m) > 0 {
		t.Errorf("temp files left behind: %v", m)
	}
}

func TestEvictionLRU(t *testing.T) {
	h := newHarness(t, nil)
	paths := []string{"/api/hls/1/a.ts", "/api/hls/1/b.ts", "/api/hls/1/c.ts", "/api/hls/1/d.ts"}
	for i, p := range paths {
		h.origin.put(p, payload(10_000, byte(i)), nil)
	}
	// Measure one object's file size, then allow three and a half.
	h.get(paths[0])
	one, _ := h.node.cache.stats()
	h.node.cache.max = one * 7 / 2
	h.get(paths[1])
	h.get(paths[2])
	h.get(paths[0]) // a is now the most recently used; b the least
	h.get(paths[3]) // d needs room: b goes

	total, objs := h.node.cache.stats()
	if total > h.node.cache.max || objs != 3 {
		t.Fatalf("cache holds %d bytes in %d objects; budget %d, want 3 objects", total, objs, h.node.cache.max)
	}
	for i, want := range []bool{true, false, true, true} {
		if got := h.node.cache.has(paths[i]); got != want {
			t.Errorf("%s cached = %v, want %v", paths[i], got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, objectName(paths[1]))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("evicted object's file still on disk: %v", err)
	}
	if counter(h.node.m.evictions) != 1 || counter(h.node.m.cacheBytes) != float64(total) {
		t.Errorf("evictions=%v cache_bytes=%v, want 1 and %d", counter(h.node.m.evictions), counter(h.node.m.cacheBytes), total)
	}
	// b comes back from the origin; the least recently used (c) makes room.
	if r := h.get(paths[1]); r.header.Get("X-Cache") != "MISS" || h.node.cache.has(paths[2]) {
		t.Errorf("refetch of b: %s, c still cached = %v", r.header.Get("X-Cache"), h.node.cache.has(paths[2]))
	}
}

func TestObjectLargerThanCache(t *testing.T) {
	h := newHarness(t, func(p *Params) { p.MaxBytes = 4096 })
	const p = "/api/downloads/1/big.bin"
	body := payload(10_000, 9)
	h.origin.put(p, body, nil)
	for i := range 2 {
		if r := h.get(p); r.status != 200 || !bytes.Equal(r.body, body) || r.header.Get("X-Cache") != "MISS" {
			t.Fatalf("request %d: %d, %d bytes, %s", i, r.status, len(r.body), r.header.Get("X-Cache"))
		}
	}
	if total, _ := h.node.cache.stats(); total != 0 || counter(h.node.m.writeErrors) != 0 {
		t.Errorf("cache holds %d bytes, write errors %v; an oversized object is simply not cached", total, counter(h.node.m.writeErrors))
	}
	assertNoTempFiles(t, h.dir)
}

func TestIndexRebuiltFromDisk(t *testing.T) {
	h := newHarness(t, nil)
	paths := []string{"/api/posters/1.jpg", "/api/posters/2.jpg", "/api/posters/3.jpg", "/api/posters/4.jpg"}
	for i, p := range paths {
		h.origin.put(p, payload(2000, byte(i)), nil)
		h.get(p)
	}
	// Leftovers of a crash, garbage with an object's name, and a stranger.
	must(t, os.WriteFile(filepath.Join(h.dir, "fill-123.tmp"), []byte("half"), 0o600))
	must(t, os.WriteFile(filepath.Join(h.dir, strings.Repeat("ab", 32)), []byte("MQC1junk"), 0o600))
	must(t, os.WriteFile(filepath.Join(h.dir, "README"), []byte("mine"), 0o600))
	// Give the objects distinct ages: 1 oldest, 3 newest.
	for i, p := range paths {
		tm := t0.Add(-time.Duration(10-i) * time.Minute)
		must(t, os.Chtimes(filepath.Join(h.dir, objectName(p)), tm, tm))
	}
	one, _ := h.node.cache.stats()
	one /= 4
	// A fill cut short by a crash: its trailer no longer matches.
	cut := filepath.Join(h.dir, objectName(paths[1]))
	st, err := os.Stat(cut)
	must(t, err)
	must(t, os.Truncate(cut, st.Size()-100))

	// Reopen with room for two: the cut file is dropped, the oldest of the
	// other three evicted.
	n2 := h.open(func(p *Params) { p.MaxBytes = 2*one + one/2 })
	defer n2.client.CloseIdleConnections()
	total, objs := n2.cache.stats()
	has := func(i int) bool { return n2.cache.has(paths[i]) }
	if objs != 2 || total > n2.cache.max || has(0) || has(1) || !has(2) || !has(3) {
		t.Fatalf("rebuilt index: %d objects, %d bytes, has 1..4 = %v %v %v %v", objs, total, has(0), has(1), has(2), has(3))
	}
	for _, f := range []string{"fill-123.tmp", strings.Repeat("ab", 32), objectName(paths[1])} {
		if _, err := os.Stat(filepath.Join(h.dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s should have been removed", f)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, "README")); err != nil {
		t.Errorf("a file that is not a cache object was touched: %v", err)
	}
	srv2 := httptest.NewServer(n2)
	defer srv2.Close()
	before := h.origin.calls(paths[2])
	if r := h.do("GET", srv2.URL+h.signer.Sign(paths[2], t0.Add(time.Hour)), nil); r.header.Get("X-Cache") != "HIT" || !bytes.Equal(r.body, payload(2000, 2)) || r.header.Get("ETag") == "" {
		t.Fatalf("after restart: %s, ETag %q", r.header.Get("X-Cache"), r.header.Get("ETag"))
	}
	if h.origin.calls(paths[2]) != before {
		t.Error("restart lost the cached copy")
	}
}

// failingFile is a temp file on a disk that fills up after room bytes.
type failingFile struct {
	*os.File
	room int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.room {
		n, _ := f.File.Write(p[:f.room])
		f.room = 0
		return n, fmt.Errorf("write %s: %w", f.Name(), syscall.ENOSPC)
	}
	f.room -= len(p)
	return f.File.Write(p)
}

func TestFullDiskStillServesViewer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		create func(dir, pattern string) (tempFile, error)
	}{
		{"create fails", func(dir, pattern string) (tempFile, error) {
			return nil, &os.PathError{Op: "open", Path: dir, Err: syscall.EROFS}
		}},
		{"disk fills mid-body", func(dir, pattern string) (tempFile, error) {
			f, err := os.CreateTemp(dir, pattern)
			return &failingFile{File: f, room: 70_000}, err
		}},
		{"header write fails", func(dir, pattern string) (tempFile, error) {
			f, err := os.CreateTemp(dir, pattern)
			return &failingFile{File: f, room: 0}, err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.node.cache.createTemp = tt.create
			paths := []string{"/api/hls/1/a.ts", "/api/hls/1/b.ts"}
			body := payload(500_000, 4)
			for _, p := range paths {
				h.origin.put(p, body, nil)
				for i := range 2 {
					r := h.get(p)
					if r.err != nil || r.status != 200 || !bytes.Equal(r.body, body) {
						t.Fatalf("%s request %d: %d err=%v, %d bytes; the viewer must get the whole body", p, i, r.status, r.err, len(r.body))
					}
				}
				if h.node.cache.has(p) || h.origin.calls(p) != 2 {
					t.Errorf("%s: cached=%v, origin calls %d; want pass-through", p, h.node.cache.has(p), h.origin.calls(p))
				}
			}
			if got := counter(h.node.m.writeErrors); got != 4 {
				t.Errorf("cache_write_errors_total = %v, want 4", got)
			}
			if n := strings.Count(h.logs.String(), "cache write failed"); n != 1 {
				t.Errorf("logged the write failure %d times in one burst, want once", n)
			}
			assertNoTempFiles(t, h.dir)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestHitsRefreshDiskAge(t *testing.T) {
	var clock atomic.Int64
	clock.Store(t0.Unix())
	h := newHarness(t, func(p *Params) { p.Now = func() time.Time { return time.Unix(clock.Load(), 0) } })
	a, b := "/api/posters/a.jpg", "/api/posters/b.jpg"
	h.origin.put(a, payload(3000, 1), nil)
	h.origin.put(b, payload(3000, 2), nil)
	h.get(a)
	h.get(b)
	h.get(a) // within touchEvery: no disk write
	before, _ := os.Stat(filepath.Join(h.dir, objectName(a)))
	clock.Add(int64(2 * touchEvery / time.Second))
	if r := h.do("GET", h.srv.URL+h.signer.Sign(a, time.Unix(clock.Load(), 0).Add(time.Hour)), nil); r.header.Get("X-Cache") != "HIT" {
		t.Fatalf("hit after two hours: %d %s", r.status, r.body)
	}
	after, _ := os.Stat(filepath.Join(h.dir, objectName(a)))
	if !after.ModTime().Equal(time.Unix(clock.Load(), 0)) || after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("mtime %v -> %v, want the hit's time %v", before.ModTime(), after.ModTime(), time.Unix(clock.Load(), 0))
	}
	one, _ := h.node.cache.stats()
	n2 := h.open(func(p *Params) { p.MaxBytes = one / 2 * 3 / 2 }) // room for one
	defer n2.client.CloseIdleConnections()
	if !n2.cache.has(a) || n2.cache.has(b) {
		t.Fatalf("after restart: has(a)=%v has(b)=%v; the recently hit object should survive", n2.cache.has(a), n2.cache.has(b))
	}
}

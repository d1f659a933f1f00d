package segcache

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var src = Source{Path: "/films/a.mkv", Size: 100, MTime: 1}

func key(i int) Key { return Key{Source: src, Rendition: "720p", Settings: "abc123", Index: i} }

func read(t *testing.T, c *Cache, k Key) string {
	t.Helper()
	f, err := c.Open(k)
	if err != nil {
		t.Fatalf("open %v: %v", k.Index, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

func TestPutOpenAndRestart(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(key(0)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("cold open: %v, want ErrNotExist", err)
	}
	for i := InitIndex; i < 3; i++ {
		if err := c.Put(key(i), []byte(strings.Repeat("x", 10+i))); err != nil {
			t.Fatal(err)
		}
	}
	// A half-written object from a crash is a temp file: never indexed, removed.
	tmp := filepath.Join(dir, src.ID(), "720p-abc123", ".tmp-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	c2, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Len() != 4 || c2.Size() != c.Size() {
		t.Fatalf("after restart: %d objects %d bytes, want 4 and %d", c2.Len(), c2.Size(), c.Size())
	}
	if got := read(t, c2, key(2)); got != strings.Repeat("x", 12) {
		t.Fatalf("segment 2 after restart = %q", got)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temp file left behind: %v", err)
	}
}

func TestSourceChangeDropsEntries(t *testing.T) {
	c, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(key(0), []byte("old")); err != nil {
		t.Fatal(err)
	}
	changed := src
	changed.MTime = 2
	k := key(0)
	k.Source = changed
	if c.Has(k) {
		t.Fatal("changed source hits the old entry")
	}
	if err := c.Put(k, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if c.Has(key(0)) || c.Len() != 1 {
		t.Fatalf("old version still cached: has=%v len=%d", c.Has(key(0)), c.Len())
	}
	if got := read(t, c, k); got != "new" {
		t.Fatalf("got %q", got)
	}
}

func TestLRUEviction(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, 30)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := c.Put(key(i), []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
	}
	read(t, c, key(0)) // 0 is now more recent than 1
	if err := c.Put(key(3), []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if c.Has(key(1)) || !c.Has(key(0)) || !c.Has(key(3)) || c.Size() != 30 {
		t.Fatalf("eviction: has1=%v has0=%v has3=%v size=%d", c.Has(key(1)), c.Has(key(0)), c.Has(key(3)), c.Size())
	}
	if _, err := os.Stat(filepath.Join(dir, src.ID(), "720p-abc123", "1.m4s")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("evicted file still on disk: %v", err)
	}
	// A restart with a smaller bound evicts the oldest.
	now := time.Now()
	_ = os.Chtimes(filepath.Join(dir, src.ID(), "720p-abc123", "2.m4s"), now.Add(-time.Hour), now.Add(-time.Hour))
	c2, err := Open(dir, 20)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Has(key(2)) || c2.Len() != 2 {
		t.Fatalf("restart eviction: has2=%v len=%d", c2.Has(key(2)), c2.Len())
	}
}

func TestKeysCannotEscape(t *testing.T) {
	c, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{
		{Source: src, Rendition: "../x", Settings: "a", Index: 0},
		{Source: src, Rendition: "720p", Settings: "a/../../b", Index: 0},
		{Source: src, Rendition: "", Settings: "a", Index: 0},
		{Source: src, Rendition: "720p", Settings: "a", Index: -2},
	} {
		if err := c.Put(k, []byte("x")); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(%+v) = %v, want ErrInvalid", k, err)
		}
	}
}

// TestObjectLargerThanTheCache: it is refused, and what is cached stays.
func TestObjectLargerThanTheCache(t *testing.T) {
	c, err := Open(t.TempDir(), 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(key(0), []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(key(1), make([]byte, 31)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("31 bytes into a 30-byte cache: %v, want ErrTooLarge", err)
	}
	if !c.Has(key(0)) || c.Has(key(1)) || c.Size() != 10 {
		t.Fatalf("after the refusal: has0=%v has1=%v size=%d", c.Has(key(0)), c.Has(key(1)), c.Size())
	}
}

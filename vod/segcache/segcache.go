// Package segcache is the on-disk object cache behind on-demand viewing: the
// init segments and media segments of every (source, rendition, settings),
// shared by every viewer, and later by offline downloads (issue #15: a
// download file is an init segment followed by the cached fragments in
// order) and CDN nodes (issue #16: an object is one segment).
//
// Layout under the cache directory:
//
//	<src>/source.json            the source's path, size and mtime
//	<src>/<rendition>-<settings>/init.mp4
//	<src>/<rendition>-<settings>/<index>.m4s
//
// where <src> is a hash of the source's identity (path, size, mtime), so a
// changed file never hits an old entry, and <settings> is the hash of the
// encoder settings. Objects are written to a temporary file, fsynced and
// renamed into place, so a reader never sees half an object; the index is
// rebuilt from the directory on Open; the total size is bounded by bytes,
// evicting the least recently used objects first.
package segcache

import (
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrInvalid reports a key that cannot name an object.
var ErrInvalid = errors.New("segcache: invalid key")

// ErrTooLarge reports an object bigger than the whole cache: it is not
// stored (storing it would evict everything, itself included).
var ErrTooLarge = errors.New("segcache: object larger than the cache")

// InitIndex is the Index of a rendition's init segment.
const InitIndex = -1

// Source identifies a source file's content: a change of size or mtime
// makes a different Source.
type Source struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime_ns"`
}

// StatSource returns the identity of the file fi found at path.
func StatSource(path string, fi fs.FileInfo) Source {
	return Source{Path: path, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
}

// ID is the directory name of the source's objects.
func (s Source) ID() string {
	h := sha256.Sum256([]byte(s.Path + "\x00" + strconv.FormatInt(s.Size, 10) + "\x00" + strconv.FormatInt(s.MTime, 10)))
	return hex.EncodeToString(h[:12])
}

// Key names one object.
type Key struct {
	Source    Source
	Rendition string // e.g. "720p"; letters, digits and '_' only
	Settings  string // hash of the encoder settings; hex only
	Index     int    // segment index, or InitIndex
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (k Key) rel() (string, error) {
	if !validName(k.Rendition) || !validName(k.Settings) || k.Index < InitIndex {
		return "", fmt.Errorf("%w: %q/%q/%d", ErrInvalid, k.Rendition, k.Settings, k.Index)
	}
	name := strconv.Itoa(k.Index) + ".m4s"
	if k.Index == InitIndex {
		name = "init.mp4"
	}
	return filepath.Join(k.Source.ID(), k.Rendition+"-"+k.Settings, name), nil
}

type entry struct {
	rel  string
	size int64
	elem *list.Element
}

// Cache is safe for concurrent use. Its lock guards only the in-memory
// index; file I/O happens outside it.
type Cache struct {
	dir string
	max int64

	mu      sync.Mutex
	entries map[string]*entry
	lru     *list.List // front = most recently used; values are *entry
	size    int64
	sources map[string]Source // source ID → identity, for invalidation
}

// Open opens (creating) the cache in dir, bounded by maxBytes, and rebuilds
// its index from the files there. Leftover temporary files are removed.
func Open(dir string, maxBytes int64) (*Cache, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("segcache: max bytes must be positive, got %d", maxBytes)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("segcache: %w", err)
	}
	c := &Cache{dir: dir, max: maxBytes, entries: map[string]*entry{}, lru: list.New(), sources: map[string]Source{}}
	if err := c.rebuild(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	victims := c.evictLocked()
	c.mu.Unlock()
	c.remove(victims)
	return c, nil
}

type found struct {
	rel  string
	size int64
	mod  time.Time
}

func (c *Cache) rebuild() error {
	var objs []found
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(c.dir, p)
		name := d.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			return os.Remove(p)
		case name == "source.json":
			b, err := os.ReadFile(p)
			var s Source
			if err != nil || json.Unmarshal(b, &s) != nil || s.ID() != filepath.Dir(rel) {
				return os.RemoveAll(filepath.Dir(p))
			}
			c.sources[s.ID()] = s
		case strings.HasSuffix(name, ".m4s") || name == "init.mp4":
			fi, err := d.Info()
			if err != nil {
				return err
			}
			objs = append(objs, found{rel, fi.Size(), fi.ModTime()})
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("segcache: rebuilding index of %s: %w", c.dir, err)
	}
	// Oldest first, so the most recently written ends up in front.
	sortFound(objs)
	for _, o := range objs {
		if _, ok := c.sources[strings.SplitN(o.rel, string(filepath.Separator), 2)[0]]; !ok {
			_ = os.Remove(filepath.Join(c.dir, o.rel))
			continue
		}
		c.addLocked(o.rel, o.size)
	}
	return nil
}

func sortFound(o []found) {
	sort.Slice(o, func(i, j int) bool { return o[i].mod.Before(o[j].mod) })
}

func (c *Cache) addLocked(rel string, size int64) {
	if e, ok := c.entries[rel]; ok {
		c.size -= e.size
		c.lru.Remove(e.elem)
	}
	e := &entry{rel: rel, size: size}
	e.elem = c.lru.PushFront(e)
	c.entries[rel] = e
	c.size += size
}

// evictLocked drops least recently used entries from the index until the
// total fits, and returns their files for removal outside the lock.
func (c *Cache) evictLocked() []string {
	var victims []string
	for c.size > c.max && c.lru.Len() > 0 {
		e := c.lru.Remove(c.lru.Back()).(*entry)
		delete(c.entries, e.rel)
		c.size -= e.size
		victims = append(victims, e.rel)
	}
	return victims
}

func (c *Cache) remove(rels []string) {
	for _, r := range rels {
		_ = os.Remove(filepath.Join(c.dir, r))
	}
}

// Open returns the object for k, opened for reading, or an error matching
// fs.ErrNotExist when it is not cached. The caller closes the file; an
// eviction meanwhile does not disturb an open reader.
func (c *Cache) Open(k Key) (*os.File, error) {
	rel, err := k.rel()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	e, ok := c.entries[rel]
	if ok {
		c.lru.MoveToFront(e.elem)
	}
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("segcache: %s: %w", rel, fs.ErrNotExist)
	}
	f, err := os.Open(filepath.Join(c.dir, rel))
	if err != nil {
		c.mu.Lock()
		if cur := c.entries[rel]; cur == e {
			c.lru.Remove(e.elem)
			delete(c.entries, rel)
			c.size -= e.size
		}
		c.mu.Unlock()
		return nil, fmt.Errorf("segcache: %w", err)
	}
	return f, nil
}

// Has reports whether k is cached, without touching its recency.
func (c *Cache) Has(k Key) bool {
	rel, err := k.rel()
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[rel]
	return ok
}

// Put stores data as the object k: temporary file, fsync, rename. Entries
// of other versions of the same source path are dropped first.
func (c *Cache) Put(k Key, data []byte) error {
	rel, err := k.rel()
	if err != nil {
		return err
	}
	if int64(len(data)) > c.max {
		return fmt.Errorf("%w: %d bytes, the cache holds %d", ErrTooLarge, len(data), c.max)
	}
	if err := c.ensureSource(k.Source); err != nil {
		return err
	}
	dst := filepath.Join(c.dir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("segcache: %w", err)
	}
	if err := writeAtomic(dst, data); err != nil {
		return err
	}
	c.mu.Lock()
	c.addLocked(rel, int64(len(data)))
	victims := c.evictLocked()
	c.mu.Unlock()
	c.remove(victims)
	return nil
}

func writeAtomic(dst string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return fmt.Errorf("segcache: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("segcache: writing %s: %w", dst, err)
	}
	return nil
}

// ensureSource records s and drops every cached version of the same path
// with another identity (the file changed under the cache).
func (c *Cache) ensureSource(s Source) error {
	id := s.ID()
	c.mu.Lock()
	_, known := c.sources[id]
	c.mu.Unlock()
	if known {
		return nil
	}
	c.Invalidate(s)
	b, _ := json.Marshal(s)
	if err := os.MkdirAll(filepath.Join(c.dir, id), 0o750); err != nil {
		return fmt.Errorf("segcache: %w", err)
	}
	if err := writeAtomic(filepath.Join(c.dir, id, "source.json"), b); err != nil {
		return err
	}
	c.mu.Lock()
	c.sources[id] = s
	c.mu.Unlock()
	return nil
}

// Invalidate drops every object of s.Path whose identity is not s.
func (c *Cache) Invalidate(s Source) {
	id := s.ID()
	c.mu.Lock()
	var stale []string
	for sid, old := range c.sources {
		if old.Path == s.Path && sid != id {
			stale = append(stale, sid)
			delete(c.sources, sid)
		}
	}
	for _, sid := range stale {
		prefix := sid + string(filepath.Separator)
		for rel, e := range c.entries {
			if strings.HasPrefix(rel, prefix) {
				c.lru.Remove(e.elem)
				delete(c.entries, rel)
				c.size -= e.size
			}
		}
	}
	c.mu.Unlock()
	for _, sid := range stale {
		_ = os.RemoveAll(filepath.Join(c.dir, sid))
	}
}

// Size is the total bytes of the cached objects.
func (c *Cache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// Len is the number of cached objects.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

package cdn

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// On disk every object is one file named hex(sha256(cache key)) — never a
// name taken from the request — laid out as
//
//	"MQC1" | uint32 big-endian n | n bytes of JSON objectHeader | body |
//	uint64 big-endian body length | "MQCE"
//
// so a single rename publishes headers and body together, the index can be
// rebuilt from the directory alone, and a file cut short by a crash (fills
// are not fsynced) fails the trailer check and is dropped at start.
const (
	fileMagic     = "MQC1"
	trailerMagic  = "MQCE"
	prefixLen     = 8
	trailerLen    = 12
	maxHeaderLen  = 64 << 10
	tempPattern   = "fill-*.tmp"
	tempPrefix    = "fill-"
	tempSuffix    = ".tmp"
	objectNameLen = 2 * sha256.Size
)

// objectHeader is the metadata stored in front of a cached body.
type objectHeader struct {
	Key    string            `json:"key"`
	Header map[string]string `json:"header"`
	Stored int64             `json:"stored"`
}

// entry is one cached object in the in-memory index.
type entry struct {
	key     string
	name    string // file name in the cache dir
	bodyOff int64  // where the body starts in the file
	size    int64  // whole file, which is what counts against the budget
	header  map[string]string
	modTime time.Time    // the origin's Last-Modified, or zero
	touched atomic.Int64 // unix seconds of the file's mtime, our LRU age on disk
	elem    *list.Element
}

// bodySize is the length of the cached body.
func (e *entry) bodySize() int64 { return e.size - e.bodyOff - trailerLen }

// outcome is how a fill ended, which tells the requests that waited on it
// what to do next.
type outcome int

const (
	fillAborted     outcome = iota // viewer left or body broke: retry
	fillCached                     // object is on disk: serve it
	fillUncacheable                // origin answered something we keep no copy of: ask it yourself
	fillFailed                     // origin is down or erroring: answer 502 too
)

// flight is one fill in progress; followers wait on done, or stop waiting
// and ask the origin themselves when the leader closes long.
type flight struct {
	done     chan struct{}
	long     chan struct{} // closed by the leader: not worth waiting for
	released bool          // leader-only: long is closed
	outcome  outcome
	code     string // error code for fillFailed
	message  string
}

// release tells the followers not to wait; called by the leader only.
func (f *flight) release() {
	if !f.released {
		f.released = true
		close(f.long)
	}
}

// tempFile is what a fill writes to; an interface so tests can make the disk
// fail.
type tempFile interface {
	io.Writer
	Close() error
	Name() string
}

// cache is the node's disk index: LRU order, byte budget and the fills in
// flight. One mutex guards it all; it is held only for map and list work,
// never across disk or network I/O, except for the rename that publishes an
// object.
type cache struct {
	dir        string
	max        int64
	log        *slog.Logger
	m          *metrics
	createTemp func(dir, pattern string) (tempFile, error)

	mu      sync.Mutex
	index   map[string]*entry
	lru     *list.List // front is the most recently used
	total   int64
	flights map[string]*flight
	// journal records adds (bytes) and evictions (-1) by key since the
	// heartbeat last drained it; nil until a heartbeat loop starts.
	journal  map[string]int64
	overflow bool // journal outgrew maxJournal: the next heartbeat is Full
}

// objectName is the file name of key: hex(sha256(key)).
func objectName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// openCache creates dir if needed, removes leftover temp files, rebuilds the
// index from the objects found, and evicts down to max.
func openCache(dir string, max int64, log *slog.Logger, m *metrics) (*cache, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("cdn: cache dir %s: %w", dir, err)
	}
	c := &cache{dir: dir, max: max, log: log, m: m, index: map[string]*entry{}, lru: list.New(),
		flights: map[string]*flight{},
		createTemp: func(dir, pattern string) (tempFile, error) {
			return os.CreateTemp(dir, pattern)
		}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cdn: read cache dir %s: %w", dir, err)
	}
	type found struct {
		e     *entry
		mtime time.Time
	}
	var objs []found
	var skipped int
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tempPrefix) && strings.HasSuffix(name, tempSuffix) {
			_ = os.Remove(filepath.Join(dir, name)) // an interrupted fill
			continue
		}
		if strings.HasSuffix(name, partSuffix) {
			continue // a replication in progress (replicate.go), resumed by its next task
		}
		if len(name) != objectNameLen || !de.Type().IsRegular() {
			skipped++
			continue
		}
		e, mtime, err := readEntry(dir, name)
		if err != nil {
			log.Warn("removing unreadable cache object", "file", name, "err", err)
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		objs = append(objs, found{e, mtime})
	}
	if skipped > 0 {
		log.Warn("cache dir holds files that are not cache objects; left alone", "dir", dir, "count", skipped)
	}
	// Oldest first, each pushed to the front: the newest ends up most recent.
	sort.Slice(objs, func(i, j int) bool { return objs[i].mtime.Before(objs[j].mtime) })
	for _, o := range objs {
		c.insertLocked(o.e)
	}
	victims := c.evictLocked(nil)
	c.removeFiles(victims)
	c.publish()
	log.Info("cache index rebuilt", "dir", dir, "objects", len(c.index), "bytes", c.total, "max_bytes", max)
	return c, nil
}

// readEntry reads the header of the object file name.
func readEntry(dir, name string) (*entry, time.Time, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	var pre [prefixLen]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil {
		return nil, time.Time{}, fmt.Errorf("short file: %w", err)
	}
	if string(pre[:4]) != fileMagic {
		return nil, time.Time{}, errors.New("not a cache object")
	}
	n := int64(binary.BigEndian.Uint32(pre[4:]))
	if n > maxHeaderLen || prefixLen+n+trailerLen > st.Size() {
		return nil, time.Time{}, errors.New("header length out of range")
	}
	var tr [trailerLen]byte
	if _, err := f.ReadAt(tr[:], st.Size()-trailerLen); err != nil {
		return nil, time.Time{}, err
	}
	body := int64(binary.BigEndian.Uint64(tr[:8]))
	if string(tr[8:]) != trailerMagic || body != st.Size()-prefixLen-n-trailerLen {
		return nil, time.Time{}, errors.New("incomplete: trailer does not match the file")
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, time.Time{}, err
	}
	var h objectHeader
	if err := json.Unmarshal(buf, &h); err != nil {
		return nil, time.Time{}, fmt.Errorf("header: %w", err)
	}
	if objectName(h.Key) != name {
		return nil, time.Time{}, errors.New("key does not match file name")
	}
	e := newEntry(h, name, prefixLen+n, st.Size())
	e.touched.Store(st.ModTime().Unix())
	return e, st.ModTime(), nil
}

// newEntry builds an index entry from a stored header.
func newEntry(h objectHeader, name string, bodyOff, size int64) *entry {
	e := &entry{key: h.Key, name: name, bodyOff: bodyOff, size: size, header: h.Header}
	if lm := h.Header["Last-Modified"]; lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			e.modTime = t
		}
	}
	return e
}

// encodeHeader returns the file prefix and JSON header for h.
func encodeHeader(h objectHeader) ([]byte, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(js) > maxHeaderLen {
		return nil, errors.New("cdn: object headers too large to cache")
	}
	out := make([]byte, prefixLen, prefixLen+len(js))
	copy(out, fileMagic)
	binary.BigEndian.PutUint32(out[4:], uint32(len(js)))
	return append(out, js...), nil
}

// encodeTrailer returns the bytes that end an object of body bytes.
func encodeTrailer(body int64) []byte {
	out := make([]byte, trailerLen)
	binary.BigEndian.PutUint64(out, uint64(body))
	copy(out[8:], trailerMagic)
	return out
}

// acquire looks key up. It returns the cached entry (marked most recently
// used), or the fill in flight to wait on, or — when lead is true and there
// is neither — a new flight that the caller must finish.
func (c *cache) acquire(key string, lead bool) (e *entry, f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.index[key]; e != nil {
		c.lru.MoveToFront(e.elem)
		return e, nil, false
	}
	if f := c.flights[key]; f != nil {
		return nil, f, false
	}
	if !lead {
		return nil, nil, false
	}
	f = &flight{done: make(chan struct{}), long: make(chan struct{})}
	c.flights[key] = f
	c.m.fillsInFlight.Inc()
	return nil, f, true
}

// finish ends the flight for key, publishing the object in tmp first when
// it is non-empty. It returns an error only when the publish failed, in
// which case the flight ends as fillUncacheable.
func (c *cache) finish(key string, f *flight, tmp string, e *entry) error {
	var err error
	var victims []*entry
	if tmp != "" {
		final := filepath.Join(c.dir, e.name)
		c.mu.Lock()
		if err = os.Rename(tmp, final); err == nil {
			if old := c.index[key]; old != nil {
				c.unlinkLocked(old)
			}
			c.insertLocked(e)
			victims = c.evictLocked(e)
			f.outcome = fillCached
		} else {
			f.outcome = fillUncacheable
		}
		c.mu.Unlock()
		if err != nil {
			_ = os.Remove(tmp)
		}
	}
	c.mu.Lock()
	delete(c.flights, key)
	c.mu.Unlock()
	c.m.fillsInFlight.Dec()
	close(f.done)
	c.removeFiles(victims)
	c.publish()
	return err
}

// touchEvery is how stale a cached file's mtime may get before a hit
// refreshes it, so that the LRU order survives a restart without a syscall
// on every hit.
const touchEvery = time.Hour

// touch records a use of e on disk when its mtime is older than touchEvery.
func (c *cache) touch(e *entry, now time.Time) {
	last := e.touched.Load()
	if now.Unix()-last < int64(touchEvery/time.Second) || !e.touched.CompareAndSwap(last, now.Unix()) {
		return
	}
	_ = os.Chtimes(filepath.Join(c.dir, e.name), now, now) // best effort: only the order after a restart suffers
}

// drop forgets key when its file turned out to be missing.
func (c *cache) drop(e *entry) {
	c.mu.Lock()
	if c.index[e.key] == e {
		c.unlinkLocked(e)
	}
	c.mu.Unlock()
	c.publish()
}

func (c *cache) insertLocked(e *entry) {
	e.elem = c.lru.PushFront(e)
	c.index[e.key] = e
	c.total += e.size
	c.noteLocked(e.key, e.bodySize())
}

func (c *cache) unlinkLocked(e *entry) {
	c.lru.Remove(e.elem)
	delete(c.index, e.key)
	c.total -= e.size
	c.noteLocked(e.key, -1)
}

// evictLocked unlinks least recently used entries, never keep, until the
// total fits the budget, and returns them so their files can be removed
// outside the lock.
func (c *cache) evictLocked(keep *entry) []*entry {
	var victims []*entry
	for c.total > c.max {
		back := c.lru.Back()
		if back == nil {
			break
		}
		e := back.Value.(*entry)
		if e == keep {
			if back = back.Prev(); back == nil {
				break
			}
			e = back.Value.(*entry)
		}
		c.unlinkLocked(e)
		victims = append(victims, e)
	}
	return victims
}

// removeFiles deletes evicted objects. A viewer still reading one keeps its
// open descriptor, so eviction never cuts a response short.
func (c *cache) removeFiles(victims []*entry) {
	for _, e := range victims {
		if err := os.Remove(filepath.Join(c.dir, e.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("removing evicted cache object", "file", e.name, "err", err)
		}
		c.m.evictions.Inc()
	}
}

// publish updates the size gauges.
func (c *cache) publish() {
	c.mu.Lock()
	total, n := c.total, len(c.index)
	c.mu.Unlock()
	c.m.cacheBytes.Set(float64(total))
	c.m.cacheObjects.Set(float64(n))
}

// stats reports the bytes and objects held, for tests and logs.
func (c *cache) stats() (total int64, objects int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, len(c.index)
}

// has reports whether key is cached, without touching its LRU position.
func (c *cache) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.index[key] != nil
}

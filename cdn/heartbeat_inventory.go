package cdn

import (
	"sort"
	"strconv"
	"strings"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// maxJournal bounds the adds and evictions kept between two heartbeats; a
// node that churns more than this sends its whole inventory instead.
const maxJournal = 100_000

// noteLocked records that key was added (bytes ≥ 0) or evicted (-1) while
// a heartbeat loop is listening.
func (c *cache) noteLocked(key string, bytes int64) {
	if c.journal == nil {
		return
	}
	if len(c.journal) >= maxJournal {
		c.overflow, c.journal = true, map[string]int64{}
	}
	c.journal[key] = bytes
}

// drainJournal returns the changes since the previous call (starting the
// journal on the first), and whether they overflowed. With full it returns
// instead every object held now, as adds, and the journal restarts empty.
func (c *cache) drainJournal(full bool) (changes map[string]int64, overflow bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	changes, overflow = c.journal, c.overflow
	c.journal, c.overflow = map[string]int64{}, false
	if full || overflow || changes == nil {
		changes = make(map[string]int64, len(c.index))
		for k, e := range c.index {
			changes[k] = e.bodySize()
		}
		return changes, true
	}
	return changes, overflow
}

// fetching lists the keys being filled now.
func (c *cache) fetching() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.flights))
	for k := range c.flights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// objectRefs turns changes into the wire's object references: numbered
// HLS segments of one rendition directory become runs First..Last, every
// other object stays one reference. Adds and evictions are returned apart.
func objectRefs(changes map[string]int64) (added, evicted []cdnwire.ObjectRef) {
	type seg struct {
		n     int
		bytes int64
	}
	type runKey struct {
		dir  string
		gone bool
	}
	runs := map[runKey][]seg{}
	for key, b := range changes {
		gone := b < 0
		if dir, n, ok := cdnwire.SegmentNumber(key); ok {
			runs[runKey{dir, gone}] = append(runs[runKey{dir, gone}], seg{n, max(b, 0)})
			continue
		}
		ref := cdnwire.ObjectRef{Kind: objectKind(key), Key: key, ItemID: itemID(key), Bytes: max(b, 0)}
		if gone {
			evicted = append(evicted, ref)
		} else {
			added = append(added, ref)
		}
	}
	for rk, segs := range runs {
		sort.Slice(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		for i := 0; i < len(segs); {
			j, bytes := i, segs[i].bytes
			for j+1 < len(segs) && segs[j+1].n == segs[j].n+1 {
				j++
				bytes += segs[j].bytes
			}
			first, last := segs[i].n, segs[j].n
			ref := cdnwire.ObjectRef{Kind: cdnwire.KindSegment, Key: rk.dir, ItemID: itemID(rk.dir),
				First: &first, Last: &last, Bytes: bytes}
			if rk.gone {
				evicted = append(evicted, ref)
			} else {
				added = append(added, ref)
			}
			i = j + 1
		}
	}
	byKey := func(refs []cdnwire.ObjectRef) {
		sort.Slice(refs, func(i, j int) bool {
			if refs[i].Key != refs[j].Key {
				return refs[i].Key < refs[j].Key
			}
			return refs[i].First != nil && refs[j].First != nil && *refs[i].First < *refs[j].First
		})
	}
	byKey(added)
	byKey(evicted)
	return added, evicted
}

// objectKind names what a cached key is by its route.
func objectKind(key string) string {
	switch {
	case strings.HasPrefix(key, "/api/downloads/"):
		return cdnwire.KindDownload
	case strings.HasPrefix(key, "/api/posters/"):
		return cdnwire.KindPoster
	default:
		return cdnwire.KindSegment
	}
}

// itemID is the numeric id after the route's prefix, or 0 when there is
// none (a download job id, for instance).
func itemID(key string) int64 {
	rest := strings.TrimPrefix(key, "/api/")
	_, rest, _ = strings.Cut(rest, "/")
	seg, _, _ := strings.Cut(rest, "/")
	id, err := strconv.ParseInt(seg, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

package vod

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/marquee-party/marquee/vod/segcache"
)

// segmenter makes a rendition's segments in order: the encoding
// pipeline, or the remuxer.
type segmenter interface {
	nextSegment() (int, []byte, error)
	nextIndex() int
	close()
}

// newSegmenter starts the segmenter of rendition r at segment k: the
// audio copier, the remuxer or the encoding pipeline.
func newSegmenter(f *os.File, tl *Timeline, r Rendition, segTicks int64, k int) (segmenter, error) {
	if ac := tl.audioCopy(r.Stream); r.Audio && ac != nil {
		return newAudioCopier(f, tl, ac, r.Stream, k)
	}
	if r.Remux {
		return newRemuxer(f, tl, k)
	}
	return newPipeline(f, tl, r, segTicks, k)
}

// request asks an encoder for segment k (or the init segment); reply gets
// nil once it is in the cache. A background request (a pre-encoding job,
// see jobs.go) yields to viewers: it neither moves the lookahead nor goes
// before a segment a viewer waits for.
type request struct {
	k          int
	reply      chan error
	background bool
}

// encoder is the one goroutine that makes the segments of one (source,
// rendition). It encodes what is asked for plus cfg.Lookahead segments
// beyond the furthest request, re-using its running pipeline while
// requests stay ahead of it, and starting a new one at a far seek or where
// the cache already has the next segment (so no segment is encoded twice).
type encoder struct {
	s    *Service
	id   string
	it   *item
	r    Rendition
	reqs chan request

	tl       *Timeline // the source's timeline as this rendition cuts it
	p        segmenter
	file     *os.File // the source, open while p runs
	waiters  map[int][]chan error
	viewers  map[int]bool  // segments of waiters that a viewer (not only a job) waits for
	target   int           // encode up to this segment without being asked
	furthest int           // the highest segment asked for
	failed   map[int]error // segments of this source version that cannot be made
	unstored map[int]bool  // segments made but not cached: made again only when asked
}

func (e *encoder) run(ctx context.Context) {
	defer e.s.wg.Done()
	defer e.closePipeline()
	e.waiters = map[int][]chan error{}
	e.viewers = map[int]bool{}
	e.failed = map[int]error{}
	e.unstored = map[int]bool{}
	e.target, e.furthest = -1, -1
	idle := time.NewTimer(e.s.cfg.Idle)
	defer idle.Stop()
	for {
		if next, ok := e.plan(); ok {
			e.encode(ctx, next)
			e.drain()
			if ctx.Err() != nil {
				e.failAll(ctx.Err())
				return
			}
			continue
		}
		// Nothing to do: the pipeline stays open (a viewer playing on
		// continues it without a seek) until nobody has asked for Idle.
		idle.Reset(e.s.cfg.Idle)
		select {
		case req := <-e.reqs:
			e.accept(req)
		case <-idle.C:
			e.closePipeline()
			if e.leave() {
				return
			}
		case <-ctx.Done():
			e.failAll(ctx.Err())
			return
		}
	}
}

// leave removes the encoder from the service unless a request came in.
func (e *encoder) leave() bool {
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	if len(e.reqs) > 0 {
		return false
	}
	delete(e.s.encoders, e.id)
	return true
}

func (e *encoder) drain() {
	for {
		select {
		case req := <-e.reqs:
			e.accept(req)
		default:
			return
		}
	}
}

func (e *encoder) accept(req request) {
	if req.k >= 0 && !req.background {
		e.furthest = max(e.furthest, req.k)
		e.target = max(e.target, min(req.k+e.s.cfg.Lookahead, e.tl.Segments()-1))
	}
	if e.s.cache.Has(e.s.key(e.it, e.r, req.k)) {
		req.reply <- nil
		return
	}
	if err, bad := e.failed[req.k]; bad {
		req.reply <- err // a corrupt region fails the same way every time
		return
	}
	e.waiters[req.k] = append(e.waiters[req.k], req.reply)
	if !req.background {
		e.viewers[req.k] = true
	}
}

// answer replies to everyone waiting for segment k.
func (e *encoder) answer(k int, err error) {
	for _, w := range e.waiters[k] {
		w <- err
	}
	delete(e.waiters, k)
	delete(e.viewers, k)
}

// lowest is the lowest key of m, or -2 when m is empty.
func lowest[V any](m map[int]V) int {
	want := -2
	for k := range m {
		if want == -2 || k < want {
			want = k
		}
	}
	return want
}

// plan picks the next segment to make: one a viewer waits for first (the
// lowest), else the running pipeline's next within the lookahead, else the
// lookahead beyond the furthest viewer, and only then one that only a
// background job waits for.
func (e *encoder) plan() (int, bool) {
	if want := lowest(e.viewers); want != -2 {
		return want, true
	}
	if e.p != nil && e.p.nextIndex() <= e.target && !e.unstored[e.p.nextIndex()] && !e.s.cache.Has(e.s.key(e.it, e.r, e.p.nextIndex())) {
		return e.p.nextIndex(), true
	}
	// The lookahead beyond the furthest request, even when the viewer's
	// own requests were all cache hits.
	for k := max(e.furthest, 0); e.furthest >= 0 && k <= e.target; k++ {
		if _, bad := e.failed[k]; !bad && !e.unstored[k] && !e.s.cache.Has(e.s.key(e.it, e.r, k)) {
			return k, true
		}
	}
	if want := lowest(e.waiters); want != -2 {
		return want, true
	}
	return 0, false
}

// encode makes segment k, re-using the pipeline when it is already there
// or close behind (within the lookahead), and answers its waiters.
func (e *encoder) encode(ctx context.Context, k int) {
	e.s.m.waiting.Inc()
	select {
	case e.s.workers <- struct{}{}:
		e.s.m.waiting.Dec()
	case <-ctx.Done():
		e.s.m.waiting.Dec()
		return
	}
	start := time.Now()
	var err error
	if k == segcache.InitIndex {
		err = e.makeInit()
	} else {
		err = e.makeSegment(k)
	}
	<-e.s.workers
	if _, ok := uncached(err); err == nil || ok {
		e.s.m.encodes.WithLabelValues(e.r.Name).Inc()
		e.s.m.seconds.Observe(time.Since(start).Seconds())
	} else {
		e.s.m.failures.WithLabelValues(reason(err)).Inc()
		if segmentLocal(err) {
			e.failed[k] = err
		}
		e.s.log.Warn("vod: segment failed", "source", e.it.path, "rendition", e.r.Name, "segment", k, "err", err)
	}
	e.answer(k, err)
}

func (e *encoder) makeInit() error {
	var b []byte
	var err error
	if ac := e.tl.audioCopy(e.r.Stream); e.r.Audio && ac != nil {
		b, err = copyInit(ac)
	} else if e.r.Remux {
		b, err = remuxInit(e.tl.remux)
	} else {
		var enc *encoders
		if enc, err = newEncoders(e.tl, e.r, e.s.segTicks); err != nil {
			return err
		}
		b, err = enc.initSegment()
		enc.free()
	}
	if err != nil {
		return err
	}
	return e.store(segcache.InitIndex, b)
}

// makeSegment runs the pipeline up to and including segment k. Segments
// it passes on the way (at most the lookahead) are cached too.
func (e *encoder) makeSegment(k int) error {
	if e.p == nil || e.p.nextIndex() > k || k-e.p.nextIndex() > e.s.cfg.Lookahead || e.cachedBetween(e.p.nextIndex(), k) {
		e.closePipeline()
		f, err := e.it.open.Open(e.it.path)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSource, err)
		}
		if fi, err := f.Stat(); err != nil || segcache.StatSource(e.it.src.Path, fi) != e.it.src {
			f.Close()
			return fmt.Errorf("%w: %s changed while streaming; reload the playlist", ErrSource, e.it.path)
		}
		p, err := newSegmenter(f, e.tl, e.r, e.s.segTicks, k)
		if err != nil {
			f.Close()
			return err
		}
		e.p, e.file = p, f
	}
	for {
		i, b, err := e.p.nextSegment()
		if err == nil {
			err = e.store(i, b)
		}
		if _, ok := uncached(err); err != nil && !ok && !segmentLocal(err) {
			e.closePipeline()
		}
		if i == k {
			return err
		}
		// A segment on the way to k.
		if _, ok := uncached(err); err != nil && !ok {
			e.s.m.failures.WithLabelValues(reason(err)).Inc()
			if segmentLocal(err) {
				e.failed[i] = err
			}
		} else {
			e.s.m.encodes.WithLabelValues(e.r.Name).Inc()
		}
		e.answer(i, err)
		if e.p == nil {
			return err
		}
	}
}

// cachedBetween reports whether the cache has a segment in [from, to]:
// running through it would encode it twice.
func (e *encoder) cachedBetween(from, to int) bool {
	for i := from; i <= to; i++ {
		if e.s.cache.Has(e.s.key(e.it, e.r, i)) {
			return true
		}
	}
	return false
}

func (e *encoder) closePipeline() {
	if e.p != nil {
		e.p.close()
		e.file.Close()
		e.p, e.file = nil, nil
	}
}

func (e *encoder) failAll(err error) {
	for k := range e.waiters {
		e.answer(k, err)
	}
}

// segmentLocal reports an error that failed one segment but leaves the
// pipeline able to go on (a corrupt region, a segment with no pictures).
func segmentLocal(err error) bool {
	return errors.Is(err, ErrSource) || errors.Is(err, errEmptySegment)
}

func reason(err error) string {
	switch {
	case errors.Is(err, ErrSource):
		return "source"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	default:
		return "encode"
	}
}

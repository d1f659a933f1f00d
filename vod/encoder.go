package vod

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/marquee-party/marquee/vod/segcache"
)

// request asks an encoder for segment k (or the init segment); reply gets
// nil once it is in the cache.
type request struct {
	k     int
	reply chan error
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

	p       *pipeline
	waiters map[int][]chan error
	target  int // encode up to this segment without being asked
}

func (e *encoder) run(ctx context.Context) {
	defer e.s.wg.Done()
	defer e.closePipeline()
	e.waiters = map[int][]chan error{}
	e.target = -1
	idle := time.NewTimer(e.s.cfg.Idle)
	defer idle.Stop()
	for {
		next, ok := e.plan()
		if !ok {
			e.closePipeline()
			select {
			case req := <-e.reqs:
				e.accept(req)
				idle.Reset(e.s.cfg.Idle)
				continue
			case <-idle.C:
				if e.leave() {
					return
				}
				idle.Reset(e.s.cfg.Idle)
				continue
			case <-ctx.Done():
				e.failAll(ctx.Err())
				return
			}
		}
		e.encode(ctx, next)
		e.drain()
		if ctx.Err() != nil {
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
	if e.s.cache.Has(e.s.key(e.it, e.r, req.k)) {
		req.reply <- nil
		return
	}
	e.waiters[req.k] = append(e.waiters[req.k], req.reply)
	if req.k >= 0 {
		e.target = max(e.target, min(req.k+e.s.cfg.Lookahead, e.it.tl.Segments()-1))
	}
}

// plan picks the next segment to make: a waited-for one first (the
// lowest), else the running pipeline's next within the lookahead.
func (e *encoder) plan() (int, bool) {
	want := -2
	for k := range e.waiters {
		if want == -2 || k < want {
			want = k
		}
	}
	if want != -2 {
		return want, true
	}
	if e.p != nil && e.p.next <= e.target && !e.s.cache.Has(e.s.key(e.it, e.r, e.p.next)) {
		return e.p.next, true
	}
	return 0, false
}

// encode makes segment k, re-using the pipeline when it is already there
// or close behind (within the lookahead), and answers its waiters.
func (e *encoder) encode(ctx context.Context, k int) {
	select {
	case e.s.workers <- struct{}{}:
	case <-ctx.Done():
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
	if err == nil {
		e.s.m.encodes.WithLabelValues(e.r.Name).Inc()
		e.s.m.seconds.Observe(time.Since(start).Seconds())
	} else {
		e.s.m.failures.WithLabelValues(reason(err)).Inc()
		e.s.log.Warn("vod: segment failed", "source", e.it.path, "rendition", e.r.Name, "segment", k, "err", err)
	}
	for _, w := range e.waiters[k] {
		w <- err
	}
	delete(e.waiters, k)
}

func (e *encoder) makeInit() error {
	enc, err := newEncoders(e.it.tl, e.r, e.s.segTicks)
	if err != nil {
		return err
	}
	defer enc.free()
	b, err := enc.initSegment()
	if err != nil {
		return err
	}
	return e.s.cache.Put(e.s.key(e.it, e.r, segcache.InitIndex), b)
}

// makeSegment runs the pipeline up to and including segment k. Segments
// it passes on the way (at most the lookahead) are cached too.
func (e *encoder) makeSegment(k int) error {
	if e.p == nil || e.p.next > k || k-e.p.next > e.s.cfg.Lookahead || e.cachedBetween(e.p.next, k) {
		e.closePipeline()
		f, err := e.s.open.Open(e.it.path)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSource, err)
		}
		if fi, err := f.Stat(); err != nil || segcache.StatSource(e.it.src.Path, fi) != e.it.src {
			f.Close()
			return fmt.Errorf("%w: %s changed while streaming; reload the playlist", ErrSource, e.it.path)
		}
		p, err := newPipeline(f, e.it.tl, e.r, e.s.segTicks, k)
		if err != nil {
			f.Close()
			return err
		}
		p.file = f
		e.p = p
	}
	for {
		i, b, err := e.p.nextSegment()
		if err == nil {
			err = e.s.cache.Put(e.s.key(e.it, e.r, i), b)
		}
		if err != nil && !segmentLocal(err) {
			e.closePipeline()
		}
		if i == k {
			return err
		}
		// A segment on the way to k.
		if err != nil {
			e.s.m.failures.WithLabelValues(reason(err)).Inc()
		} else {
			e.s.m.encodes.WithLabelValues(e.r.Name).Inc()
		}
		for _, w := range e.waiters[i] {
			w <- err
		}
		delete(e.waiters, i)
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
		e.p.file.Close()
		e.p = nil
	}
}

func (e *encoder) failAll(err error) {
	for k, ws := range e.waiters {
		for _, w := range ws {
			w <- err
		}
		delete(e.waiters, k)
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

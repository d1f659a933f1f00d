package forward

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// WriterPool runs the writers of many DownTracks on a few goroutines.
//
// A DownTrack with work (queued packets, NACKs, new settings, its timer)
// is put on the pool's run queue once; a worker takes it, forwards what is
// queued and goes on to the next. With one goroutine per DownTrack, every
// video frame and every audio packet woke one goroutine per subscriber; the
// pool wakes one or two per frame and keeps them busy instead, which is
// most of the scheduler's share of an SFU's CPU.
//
// A slow subscriber still only hurts itself: its own bounded queue fills
// and drops to the next key frame while the workers serve the others. A
// write that blocks outright holds one worker; the pool's watchdog then
// starts an extra worker so the run queue keeps moving, and extra workers
// leave as soon as the queue is empty.
type WriterPool struct {
	log *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	runq    []*DownTrack // FIFO from runq[head]; the array is reused once drained
	head    int
	idle    int // workers waiting on cond
	extra   int // extra workers running
	closed  bool
	workers []*poolWorker // every running worker, extra ones included

	wg   sync.WaitGroup
	stop chan struct{}
}

// poolWorker is one worker's published state, for the watchdog.
type poolWorker struct {
	since atomic.Int64 // UnixNano when the current DownTrack was taken; 0 when idle
}

// stuckAfter is how long one DownTrack may hold a worker before the
// watchdog counts that worker as blocked.
const stuckAfter = 50 * time.Millisecond

// maxExtraWorkers bounds the workers started for blocked ones.
const maxExtraWorkers = 64

// NewWriterPool starts a pool of n workers (at least 1) and its watchdog.
// Close stops them.
func NewWriterPool(n int, log *slog.Logger) *WriterPool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &WriterPool{log: log, stop: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	for range max(n, 1) {
		w := &poolWorker{}
		p.workers = append(p.workers, w)
		p.wg.Add(1)
		go p.work(w, false)
	}
	p.wg.Add(1)
	go p.watch()
	return p
}

// Close stops the workers and the watchdog and waits for them. DownTracks
// still queued are dropped; their owners close them.
func (p *WriterPool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.runq, p.head = nil, 0
	p.cond.Broadcast()
	p.mu.Unlock()
	close(p.stop)
	p.wg.Wait()
}

// schedule puts d on the run queue. The caller has just set d.scheduled,
// so d is queued at most once.
func (p *WriterPool) schedule(d *DownTrack) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if p.head > 64 && 2*p.head >= len(p.runq) {
		// Never drained (a steady backlog): drop the consumed front before
		// append copies it along.
		n := copy(p.runq, p.runq[p.head:])
		clear(p.runq[n:])
		p.runq, p.head = p.runq[:n], 0
	}
	p.runq = append(p.runq, d)
	if p.idle > 0 {
		p.cond.Signal()
	}
	p.mu.Unlock()
}

// next blocks until a DownTrack is runnable; nil means the worker should
// leave (the pool closed, or an extra worker found the queue empty).
func (p *WriterPool) next(extra bool) *DownTrack {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.head == len(p.runq) {
		if p.closed || extra {
			return nil
		}
		p.idle++
		p.cond.Wait()
		p.idle--
	}
	d := p.runq[p.head]
	p.runq[p.head] = nil
	p.head++
	if p.head == len(p.runq) {
		p.runq, p.head = p.runq[:0], 0
	}
	return d
}

// work is a worker goroutine: it services runnable DownTracks until the
// pool closes (or, for an extra worker, until nothing is runnable).
func (p *WriterPool) work(w *poolWorker, extra bool) {
	defer p.wg.Done()
	if extra {
		defer func() {
			p.mu.Lock()
			p.extra--
			for i, o := range p.workers {
				if o == w {
					p.workers = append(p.workers[:i], p.workers[i+1:]...)
					break
				}
			}
			p.mu.Unlock()
		}()
	}
	for {
		d := p.next(extra)
		if d == nil {
			return
		}
		w.since.Store(time.Now().UnixNano())
		more := d.service()
		w.since.Store(0)
		d.scheduled.Store(false)
		if more || d.pending() {
			d.signal()
		}
	}
}

// watch starts an extra worker whenever work is waiting and every worker
// has been stuck on one DownTrack for longer than stuckAfter.
func (p *WriterPool) watch() {
	defer p.wg.Done()
	t := time.NewTicker(stuckAfter)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.mu.Lock()
		if !p.closed && p.head < len(p.runq) && p.idle == 0 && p.allStuck() && p.extra < maxExtraWorkers {
			p.extra++
			w := &poolWorker{}
			p.workers = append(p.workers, w)
			p.wg.Add(1)
			go p.work(w, true)
			p.log.Warn("every forwarding worker is blocked on a subscriber's write; started an extra one",
				"workers", len(p.workers), "extra", p.extra)
		}
		p.mu.Unlock()
	}
}

// allStuck reports whether every worker has held one DownTrack for longer
// than stuckAfter. Called with mu held.
func (p *WriterPool) allStuck() bool {
	now := time.Now().UnixNano()
	for _, w := range p.workers {
		if s := w.since.Load(); s == 0 || now-s <= int64(stuckAfter) {
			return false
		}
	}
	return true
}

package vod

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/marquee-party/marquee/internal/vodjobs"
	"github.com/marquee-party/marquee/vod/segcache"
)

// job is one pre-encoding job. Its goroutine (run) owns it: it waits for
// its turn (the job started before it lets go of its own), reads the items' timelines, then has up to vod.workers units
// (an item's rendition) made at once, segment by segment. Its status, st,
// is guarded by Jobs.mu so the API can read it at any time.
type job struct {
	js      *Jobs
	ctx     context.Context
	cancel  context.CancelFunc
	targets []vodjobs.Target
	ended   chan struct{}   // closed when the job has stopped
	prev    <-chan struct{} // closed when the job before lets go of its turn
	free    chan struct{}   // closed when this job lets go of its turn

	st vodjobs.Job // guarded by js.mu
}

// unit is one rendition of one item: its init segment and segments.
type unit struct {
	i  int // the item's index in the job
	it *item
	r  Rendition
	n  int // objects: segments and the init segment
}

func (j *job) run() {
	defer j.js.wg.Done()
	defer close(j.free)
	defer j.cancel()
	select {
	case <-j.prev:
	case <-j.ctx.Done():
		j.finish() // cancelled while queued
		close(j.ended)
		<-j.prev // the job after this one still waits for the one before
		return
	}
	j.update(func(st *vodjobs.Job) {
		t := j.js.now()
		st.Started = &t
		j.setState(st, vodjobs.Running)
	})
	units := j.prepare()
	work := make(chan unit)
	var wg sync.WaitGroup
	for range min(j.js.svc.cfg.Workers, max(len(units), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				j.make(u)
			}
		}()
	}
	for _, u := range units {
		select {
		case work <- u:
		case <-j.ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	j.finish()
	close(j.ended)
}

// prepare reads each item's timeline and lists its units. An item that
// cannot be read fails alone; renditions it does not have are skipped.
func (j *job) prepare() []unit {
	var units []unit
	for i, t := range j.targets {
		if j.ctx.Err() != nil {
			break
		}
		it, err := j.js.svc.item(t.Open, t.Path)
		var mine []unit
		var names, skipped []string
		if err == nil {
			for _, name := range j.st.Renditions { // immutable after Start
				rs := jobRenditionsOf(it.tl, name)
				if len(rs) == 0 {
					skipped = append(skipped, name)
				}
				for _, r := range rs {
					names = append(names, r.Name)
					mine = append(mine, unit{i: i, it: it, r: r, n: it.tl.view(r).Segments() + 1})
				}
			}
		} else {
			j.js.log.Warn("vod: job item unreadable", "job", j.st.ID, "item", t.ItemID, "err", err)
		}
		units = append(units, mine...)
		j.update(func(st *vodjobs.Job) {
			x := &st.Items[i]
			x.Renditions, x.Skipped = append(x.Renditions, names...), skipped
			for _, u := range mine {
				x.Total += u.n
			}
			switch {
			case err != nil:
				x.State, x.Error = vodjobs.Failed, err.Error()
			case len(mine) == 0:
				x.State = vodjobs.Done // nothing of what was asked exists for this source
			}
		})
	}
	return units
}

// make has every missing object of u made, one at a time, and counts
// those already cached. A segment-local error (a corrupt region) fails
// that segment and the unit goes on; any other error ends the unit.
func (j *job) make(u unit) {
	svc := j.js.svc
	j.update(func(st *vodjobs.Job) {
		if x := &st.Items[u.i]; x.State == vodjobs.Queued {
			x.State = vodjobs.Running
		}
	})
	for k := segcache.InitIndex; k < u.n-1; k++ {
		key := svc.key(u.it, u.r, k)
		var err error
		encoded := false
		if !svc.cache.Has(key) {
			if err = j.request(u, k); j.ctx.Err() != nil {
				return
			}
			encoded = err == nil
		}
		var size int64
		if err == nil {
			size = svc.cachedSize(key)
		}
		fatal := err != nil && !segmentLocal(err)
		left := 1
		if fatal {
			left = u.n - 1 - k // this one and the rest are not made
		}
		j.update(func(st *vodjobs.Job) {
			x := &st.Items[u.i]
			if err != nil {
				x.Failed += left
				if x.Error == "" {
					x.Error = fmt.Sprintf("%s segment %d: %v", u.r.Name, k, err)
				}
			} else {
				x.Done++
				x.Bytes += size
			}
			if encoded {
				x.Encoded++
			}
			j.itemEnd(x)
		})
		if encoded {
			j.js.segs.Inc()
		}
		if fatal {
			j.js.log.Warn("vod: job unit failed", "job", j.st.ID, "item", u.it.path, "rendition", u.r.Name, "err", err)
			return
		}
	}
}

// request asks the encoder of u for object k, as a background request,
// and waits for it (or for the job's end).
func (j *job) request(u unit, k int) error {
	for {
		reply := make(chan error, 1)
		err := j.js.svc.send(j.ctx, u.it, u.r, request{k: k, reply: reply, background: true})
		if errors.Is(err, ErrBusy) {
			select { // viewers fill the queue: they go first
			case <-time.After(time.Second):
				continue
			case <-j.ctx.Done():
				return j.ctx.Err()
			}
		}
		if err != nil {
			return err
		}
		select {
		case err := <-reply:
			return err
		case <-j.ctx.Done():
			return j.ctx.Err()
		}
	}
}

// itemEnd sets an item's end state once every object is accounted for.
func (j *job) itemEnd(x *vodjobs.Item) {
	if x.Done+x.Failed < x.Total {
		return
	}
	x.State = vodjobs.Done
	if x.Failed > 0 {
		x.State = vodjobs.Failed
		x.Error = fmt.Sprintf("%d of %d segments could not be made; first: %s", x.Failed, x.Total, x.Error)
	}
}

// finish sets the job's end state: cancelled when its context ended,
// failed when every item failed, else done.
func (j *job) finish() {
	j.update(func(st *vodjobs.Job) {
		t := j.js.now()
		st.Finished = &t
		st.ETASeconds = nil
		failed := 0
		for i := range st.Items {
			x := &st.Items[i]
			if !x.State.Final() {
				x.State = vodjobs.Cancelled
			}
			if x.State == vodjobs.Failed {
				failed++
			}
		}
		switch {
		case j.ctx.Err() != nil && !allFinal(st.Items):
			j.setState(st, vodjobs.Cancelled)
		case failed == len(st.Items):
			st.Error = errJobFailed.Error()
			j.setState(st, vodjobs.Failed)
		default:
			j.setState(st, vodjobs.Done)
		}
	})
	j.js.mu.Lock()
	j.js.forgetLocked()
	j.js.mu.Unlock()
	st, _ := j.js.Get(j.st.ID)
	j.js.log.Info("vod: job ended", "job", st.ID, "state", st.State, "encoded", st.Encoded, "done", st.Done,
		"total", st.Total, "failed", st.Failed)
}

// allFinal reports whether every item ended on its own (done or failed).
func allFinal(items []vodjobs.Item) bool {
	for _, x := range items {
		if x.State != vodjobs.Done && x.State != vodjobs.Failed {
			return false
		}
	}
	return true
}

// setState moves st to s and keeps the state gauge in step.
func (j *job) setState(st *vodjobs.Job, s vodjobs.State) {
	j.js.state.WithLabelValues(string(st.State)).Dec()
	j.js.state.WithLabelValues(string(s)).Inc()
	st.State = s
}

// update changes the job's status under the lock, recomputes its totals
// and ETA, and signals subscribers.
func (j *job) update(f func(st *vodjobs.Job)) {
	j.js.mu.Lock()
	defer j.js.mu.Unlock()
	f(&j.st)
	st := &j.st
	st.Progress = vodjobs.Progress{}
	for _, x := range st.Items {
		st.Total += x.Total
		st.Done += x.Done
		st.Encoded += x.Encoded
		st.Failed += x.Failed
		st.Bytes += x.Bytes
	}
	st.ETASeconds = nil
	if st.Started != nil && st.Encoded > 0 && !st.State.Final() {
		per := j.js.now().Sub(*st.Started).Seconds() / float64(st.Encoded)
		eta := per * float64(st.Total-st.Done-st.Failed)
		st.ETASeconds = &eta
	}
	st.Seq++
	j.js.notifyLocked()
}

// snapshotLocked is a deep copy of the status.
func (j *job) snapshotLocked() vodjobs.Job {
	st := j.st
	st.Renditions = append([]string(nil), st.Renditions...)
	st.Items = make([]vodjobs.Item, len(j.st.Items))
	for i, x := range j.st.Items {
		x.Renditions = append([]string{}, x.Renditions...)
		x.Skipped = append([]string(nil), x.Skipped...)
		st.Items[i] = x
	}
	if st.ETASeconds != nil {
		eta := *st.ETASeconds
		st.ETASeconds = &eta
	}
	return st
}

// jobRenditionsOf is what a job's rendition name means for a source: the
// named rendition, or every alternate audio rendition for AudioJob; none
// when the source has no such thing.
func jobRenditionsOf(tl *Timeline, name string) []Rendition {
	if name == AudioJob {
		return AudioRenditions(tl)
	}
	if r, ok := findRendition(tl, name); ok {
		return []Rendition{r}
	}
	return nil
}

package vod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/marquee-party/marquee/internal/vodjobs"
	"github.com/marquee-party/marquee/vod/segcache"
	"github.com/prometheus/client_golang/prometheus"
)

// KeepJobs is how many finished jobs are kept (in memory) for the API;
// older ones are forgotten. Jobs are not persisted: after a restart an
// admin starts a job again, and it costs only the segments still missing.
const KeepJobs = 50

// Jobs runs pre-encoding jobs ("optimized versions"): they fill the shared
// segment cache with every segment of chosen renditions of chosen items,
// ahead of any viewer.
//
// A job asks the same per-(source, rendition) encoder goroutines that
// viewers use, so a job and a viewer never encode a segment twice, and
// segments already cached cost nothing. It works within the CPU budget:
// one job runs at a time, in the order they were started (the others
// wait, queued), with at most
// vod.workers segments asked for at once, and every encode takes one of
// the service's vod.workers slots. Viewers go first in two ways: a job's
// requests are background requests, which an encoder serves only after
// every segment a viewer waits for (and after the viewer's lookahead); and
// a job asks for its next segment only once the previous one is done, so
// a viewer waiting for a slot (slots are handed out in arrival order) is
// served after at most one job segment per slot.
type Jobs struct {
	svc   *Service
	log   *slog.Logger
	now   func() time.Time
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	state *prometheus.GaugeVec
	segs  prometheus.Counter

	mu     sync.Mutex
	last   <-chan struct{} // closed when the newest job has let go of its turn
	nextID int64
	jobs   map[int64]*job
	order  []int64 // ids, oldest first
	subs   map[chan struct{}]struct{}
}

// NewJobs returns the job runner of svc; its metrics go to reg (may be
// nil). Close it before svc.
func NewJobs(svc *Service, reg prometheus.Registerer, log *slog.Logger) (*Jobs, error) {
	if log == nil {
		log = svc.log
	}
	ctx, stop := context.WithCancel(svc.ctx)
	free := make(chan struct{})
	close(free)
	js := &Jobs{svc: svc, log: log, now: time.Now, last: free, ctx: ctx, stop: stop,
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "jobs",
			Help: "Pre-encoding jobs kept in memory, by state (queued, running, done, failed, cancelled).",
		}, []string{"state"}),
		segs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "vod", Name: "job_segments_encoded_total",
			Help: "Segments (and init segments) that pre-encoding jobs asked for and had encoded.",
		}),
		jobs: map[int64]*job{}, subs: map[chan struct{}]struct{}{}}
	if reg != nil {
		for _, c := range []prometheus.Collector{js.state, js.segs} {
			if err := reg.Register(c); err != nil {
				stop()
				return nil, fmt.Errorf("vod: job metrics: %w", err)
			}
		}
	}
	return js, nil
}

// Close cancels every job and waits for them.
func (js *Jobs) Close() {
	js.stop()
	js.wg.Wait()
}

// AudioJob is the job rendition name that stands for every alternate
// audio rendition of a source (video renditions carry no sound).
const AudioJob = "audio"

// JobRenditions are the rendition names a job may ask for: the ladder,
// the remux rendition and AudioJob.
func JobRenditions() []string {
	out := []string{remuxName}
	for _, r := range ladder {
		out = append(out, r.Name)
	}
	return append(out, AudioJob)
}

// Start queues a job that encodes renditions of targets; by names who
// asked. An unknown rendition or an empty list is refused (matching
// vodjobs.ErrInvalid); renditions a source does not have are skipped and
// reported per item when the job runs.
func (js *Jobs) Start(targets []vodjobs.Target, renditions []string, by string) (vodjobs.Job, error) {
	names, err := jobRenditions(renditions)
	if err != nil {
		return vodjobs.Job{}, err
	}
	if len(targets) == 0 {
		return vodjobs.Job{}, fmt.Errorf("%w: no items to encode: name items or a library that has playable items", vodjobs.ErrInvalid)
	}
	ctx, cancel := context.WithCancel(js.ctx)
	j := &job{js: js, ctx: ctx, cancel: cancel, targets: targets, ended: make(chan struct{}), free: make(chan struct{})}
	js.mu.Lock()
	if js.ctx.Err() != nil {
		js.mu.Unlock()
		cancel()
		return vodjobs.Job{}, fmt.Errorf("vod: jobs: %w", js.ctx.Err())
	}
	js.nextID++
	j.prev, js.last = js.last, j.free
	j.st = vodjobs.Job{ID: js.nextID, State: vodjobs.Queued, Renditions: names, CreatedBy: by, Created: js.now(),
		Items: make([]vodjobs.Item, len(targets))}
	for i, t := range targets {
		j.st.Items[i] = vodjobs.Item{ItemID: t.ItemID, Title: t.Title, State: vodjobs.Queued, Renditions: []string{}}
	}
	js.jobs[j.st.ID] = j
	js.order = append(js.order, j.st.ID)
	js.state.WithLabelValues(string(vodjobs.Queued)).Inc()
	js.forgetLocked()
	st := j.snapshotLocked()
	js.notifyLocked()
	js.wg.Add(1)
	js.mu.Unlock()
	js.log.Info("vod: job queued", "job", st.ID, "items", len(targets), "renditions", names, "by", by)
	go j.run()
	return st, nil
}

// jobRenditions checks and de-duplicates the asked-for rendition names.
func jobRenditions(in []string) ([]string, error) {
	known := JobRenditions()
	var out []string
	for _, n := range in {
		if !slices.Contains(known, n) {
			return nil, fmt.Errorf("%w: unknown rendition %q: use some of %v", vodjobs.ErrInvalid, n, known)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no renditions: choose some of %v", vodjobs.ErrInvalid, known)
	}
	return out, nil
}

// forgetLocked drops the oldest finished jobs beyond KeepJobs.
func (js *Jobs) forgetLocked() {
	finished := 0
	for _, id := range js.order {
		if js.jobs[id].st.State.Final() {
			finished++
		}
	}
	keep := js.order[:0]
	for _, id := range js.order {
		j := js.jobs[id]
		if finished > KeepJobs && j.st.State.Final() {
			finished--
			js.state.WithLabelValues(string(j.st.State)).Dec()
			delete(js.jobs, id)
			continue
		}
		keep = append(keep, id)
	}
	js.order = keep
}

// List returns every kept job, newest first.
func (js *Jobs) List() []vodjobs.Job {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := make([]vodjobs.Job, 0, len(js.order))
	for i := len(js.order) - 1; i >= 0; i-- {
		out = append(out, js.jobs[js.order[i]].snapshotLocked())
	}
	return out
}

// Get returns job id (matching vodjobs.ErrNotFound when it is not kept).
func (js *Jobs) Get(id int64) (vodjobs.Job, error) {
	js.mu.Lock()
	defer js.mu.Unlock()
	j, ok := js.jobs[id]
	if !ok {
		return vodjobs.Job{}, fmt.Errorf("%w: %d", vodjobs.ErrNotFound, id)
	}
	return j.snapshotLocked(), nil
}

// Cancel cancels job id and waits (until ctx ends) for it to stop: it
// asks for no more segments, and a segment an encoder is making for it
// is finished and cached whole (segcache writes a temporary file and
// renames it), never half-written. A finished job is returned as it is.
func (js *Jobs) Cancel(ctx context.Context, id int64) (vodjobs.Job, error) {
	js.mu.Lock()
	j, ok := js.jobs[id]
	js.mu.Unlock()
	if !ok {
		return vodjobs.Job{}, fmt.Errorf("%w: %d", vodjobs.ErrNotFound, id)
	}
	j.cancel()
	select {
	case <-j.ended:
	case <-ctx.Done():
	}
	return js.Get(id)
}

// Subscribe returns a channel that receives a signal after jobs change
// (several changes may make one signal: read the jobs with Get or List),
// and a function that ends the subscription.
func (js *Jobs) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	js.mu.Lock()
	js.subs[ch] = struct{}{}
	js.mu.Unlock()
	return ch, func() {
		js.mu.Lock()
		delete(js.subs, ch)
		js.mu.Unlock()
	}
}

func (js *Jobs) notifyLocked() {
	for ch := range js.subs {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// cachedSize is the size of a cached object, 0 when it is gone.
func (s *Service) cachedSize(k segcache.Key) int64 {
	f, err := s.cache.Open(k)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// errJobFailed is a job all of whose items failed.
var errJobFailed = errors.New("every item failed")

package cdn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// DefaultHeartbeat is the default period of heartbeats (cdn.heartbeat).
const DefaultHeartbeat = 10 * time.Second

// heartbeatConfig is the part of Params the heartbeat loop uses.
type heartbeatConfig struct {
	nodeID, credential, version string
	every                       time.Duration
}

// Heartbeater reports the node's inventory, capacity and health to the API
// every heartbeat period (cdnwire.Heartbeat) and hands the tasks of the
// replies to onTasks. One goroutine owns all its state; Close stops it.
type Heartbeater struct {
	n       *Node
	url     string
	onTasks func([]cdnwire.Task)
	results func() []cdnwire.TaskResult // finished tasks (TaskRunner), may be nil
	tick    <-chan time.Time
	cancel  context.CancelFunc
	done    chan struct{}
	start   time.Time

	// Owned by the loop goroutine.
	seq     uint64
	full    bool
	pending map[string]int64 // key → bytes (added) or -1 (evicted), not yet acknowledged
	prev    counters
	prevAt  time.Time
	// Reports not yet acknowledged by the API: sent again until they are.
	refused  []cdnwire.Refusal
	finished []cdnwire.TaskResult
}

// counters are the node's cumulative counts a heartbeat turns into rates.
type counters struct {
	hits, misses, served, missBytes, errors float64
}

// StartHeartbeat starts the heartbeat loop: a first, Full, heartbeat at
// once, then one every Params.Heartbeat. onTasks (may be nil) receives the
// tasks of each reply on the loop's goroutine and must not block. It fails
// when the node has no Params.Credential.
func (n *Node) StartHeartbeat(onTasks func([]cdnwire.Task)) (*Heartbeater, error) {
	return n.startHeartbeat(onTasks, nil)
}

// StartHeartbeatWith starts the heartbeat loop with a task runner: reply
// tasks go to r, and r's results, with replication's refusals, go out
// with the next heartbeat.
func (n *Node) StartHeartbeatWith(r *TaskRunner) (*Heartbeater, error) {
	return n.startHeartbeat(r.Add, r.TakeResults)
}

func (n *Node) startHeartbeat(onTasks func([]cdnwire.Task), results func() []cdnwire.TaskResult) (*Heartbeater, error) {
	t := time.NewTicker(n.hb.every)
	h, err := n.newHeartbeater(onTasks, results, t.C)
	if err != nil {
		t.Stop()
		return nil, err
	}
	go func() {
		defer t.Stop()
		<-h.done
	}()
	return h, nil
}

// newHeartbeater starts the loop driven by tick.
func (n *Node) newHeartbeater(onTasks func([]cdnwire.Task), results func() []cdnwire.TaskResult, tick <-chan time.Time) (*Heartbeater, error) {
	if n.hb.credential == "" {
		return nil, errors.New("cdn: heartbeats need the node's credential; register the node first")
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Heartbeater{n: n, url: n.originURL(cdnwire.HeartbeatPath), onTasks: onTasks, results: results, tick: tick,
		cancel: cancel, done: make(chan struct{}), start: n.now(), full: true, pending: map[string]int64{}}
	h.prev, h.prevAt = n.counters(), h.start
	go h.run(ctx)
	return h, nil
}

// Close stops the loop and waits for it; a heartbeat in flight is cut off.
func (h *Heartbeater) Close() {
	h.cancel()
	<-h.done
}

func (h *Heartbeater) run(ctx context.Context) {
	defer close(h.done)
	for {
		if err := h.beat(ctx); err != nil && ctx.Err() == nil {
			if ok, n := h.n.originLog.allow(); ok {
				h.n.log.Warn("heartbeat failed; its deltas go with the next one", "err", err, "repeats", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-h.tick:
		}
	}
}

// beat sends one heartbeat. The deltas it carries are forgotten only once
// the API acknowledged them; a failed heartbeat's go with the next.
func (h *Heartbeater) beat(ctx context.Context) error {
	changes, full := h.n.cache.drainJournal(h.full)
	if full {
		h.full, h.pending = true, changes
	} else {
		for k, v := range changes {
			h.pending[k] = v
		}
	}
	hb := h.heartbeat()
	ctx, cancel := context.WithTimeout(ctx, max(h.n.hb.every, 5*time.Second))
	defer cancel()
	reply, err := h.post(ctx, hb)
	if err != nil {
		return err
	}
	h.pending, h.full = map[string]int64{}, reply.WantFull
	h.refused, h.finished = nil, nil
	if len(reply.Tasks) > 0 && h.onTasks != nil {
		h.onTasks(reply.Tasks)
	}
	return nil
}

// heartbeat builds the report from the pending deltas and the counters.
func (h *Heartbeater) heartbeat() cdnwire.Heartbeat {
	h.seq++
	hb := cdnwire.Heartbeat{Seq: h.seq, Full: h.full}
	hb.Added, hb.Evicted = objectRefs(h.pending)
	hb.Capacity = h.n.capacity()
	now, cur := h.n.now(), h.n.counters()
	d := counters{hits: cur.hits - h.prev.hits, misses: cur.misses - h.prev.misses,
		served: cur.served - h.prev.served, errors: cur.errors - h.prev.errors}
	hb.Health = cdnwire.Health{Load1: load1(), Errors: int64(d.errors), OriginBytes: int64(cur.missBytes),
		PeerBytes: h.n.peerBytes.Load() + h.n.repl.peerBytes.Load(), Version: h.n.hb.version,
		UptimeSeconds: int64(now.Sub(h.start) / time.Second)}
	if secs := now.Sub(h.prevAt).Seconds(); secs > 0 {
		hb.Health.EgressBps = d.served / secs
	}
	if d.hits+d.misses > 0 {
		hb.Health.HitRatio = d.hits / (d.hits + d.misses)
	}
	h.prev, h.prevAt = cur, now
	h.refused = append(h.refused, h.n.TakeRefusals()...)
	if h.results != nil {
		h.finished = append(h.finished, h.results()...)
	}
	hb.Refused, hb.TasksDone = h.refused, h.finished
	hb.Fetching = append(hb.Fetching, h.n.Fetching()...)
	for _, k := range h.n.cache.fetching() {
		hb.Fetching = append(hb.Fetching, cdnwire.Fetching{Object: cdnwire.ObjectRef{Kind: objectKind(k), Key: k, ItemID: itemID(k)}})
	}
	return hb
}

// post sends hb with the node's credential and decodes the reply.
func (h *Heartbeater) post(ctx context.Context, hb cdnwire.Heartbeat) (cdnwire.HeartbeatReply, error) {
	var reply cdnwire.HeartbeatReply
	body, err := json.Marshal(hb)
	if err != nil {
		return reply, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return reply, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.n.hb.credential)
	resp, err := h.n.client.Do(req)
	if err != nil {
		return reply, fmt.Errorf("cdn: heartbeat to %s: %w", h.n.origin.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return reply, fmt.Errorf("cdn: heartbeat refused with %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&reply); err != nil {
		return reply, fmt.Errorf("cdn: heartbeat reply: %w", err)
	}
	return reply, nil
}

// CountPeerBytes adds n bytes fetched from peer nodes to the node's health.
func (n *Node) CountPeerBytes(b int64) { n.peerBytes.Add(b) }

// capacity reports the cache's bytes and its file system's free space.
func (n *Node) capacity() cdnwire.Capacity {
	used, _ := n.cache.stats()
	c := cdnwire.Capacity{UsedBytes: used, MaxBytes: n.cache.max}
	var st syscall.Statfs_t
	if syscall.Statfs(n.cache.dir, &st) == nil {
		c.FreeBytes = int64(st.Bavail) * int64(st.Bsize)
	}
	return c
}

// counters reads the node's cumulative counts from its metrics.
func (n *Node) counters() counters {
	return counters{hits: sum(n.m.hits), misses: sum(n.m.misses), served: sum(n.m.servedBytes),
		missBytes: sum(n.m.servedBytes.WithLabelValues("miss")), errors: sum(n.m.originErrors) + sum(n.m.writeErrors)}
}

// sum adds up the values of the counters c collects.
func sum(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 16)
	go func() { c.Collect(ch); close(ch) }()
	var total float64
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) == nil && d.Counter != nil {
			total += d.Counter.GetValue()
		}
	}
	return total
}

// load1 is the one-minute load average (/proc/loadavg), 0 where unknown.
func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

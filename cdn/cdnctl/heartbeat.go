package cdnctl

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// NodeAuth tells which node a credential belongs to; the registry does. It
// fails for an unknown or revoked credential.
type NodeAuth interface {
	Authenticate(ctx context.Context, credential string) (nodeID string, err error)
}

// NodeStates records what heartbeats say about nodes and marks the silent
// ones down. SQLiteNodes writes them to cdn_nodes.
type NodeStates interface {
	// Report stores node's capacity and health seen at at, and marks it
	// up unless it was revoked.
	Report(ctx context.Context, node string, c cdnwire.Capacity, h cdnwire.Health, at time.Time) error
	// MarkDown marks down the up nodes last seen before cutoff and
	// returns their ids.
	MarkDown(ctx context.Context, cutoff time.Time) ([]string, error)
}

// ErrNodeRefused is returned by Heartbeats.Handle for a credential NodeAuth
// does not accept.
var ErrNodeRefused = errors.New("cdnctl: heartbeat refused: unknown or revoked node credential; register the node again")

// MissedHeartbeats is how many heartbeat periods a node may stay silent
// before it is marked down and gets no more viewers.
const MissedHeartbeats = 3

// HeartbeatParams configures Heartbeats.
type HeartbeatParams struct {
	Auth  NodeAuth
	Index Index
	Nodes NodeStates
	Tasks *Tasks
	// Every is the nodes' heartbeat period (cdn.heartbeat).
	Every time.Duration
	// Observe, when set, sees every accepted heartbeat after the index has
	// it (fetch progress, refusals, finished tasks).
	Observe    func(node string, hb *cdnwire.Heartbeat)
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Heartbeats answers nodes' heartbeats and marks silent nodes down.
type Heartbeats struct {
	p HeartbeatParams
	m *hbMetrics

	mu   sync.Mutex
	seen map[string]bool // nodes heard from since this process started
}

type hbMetrics struct {
	beats    *prometheus.CounterVec // result: ok, refused, error
	down     prometheus.Counter
	apply    prometheus.Histogram
	perNode  *prometheus.GaugeVec // node, what
	lastSeen *prometheus.GaugeVec // node
}

// NewHeartbeats checks p and registers its metrics.
func NewHeartbeats(p HeartbeatParams) (*Heartbeats, error) {
	if p.Auth == nil || p.Index == nil || p.Nodes == nil || p.Tasks == nil || p.Every <= 0 {
		return nil, errors.New("cdnctl: HeartbeatParams needs Auth, Index, Nodes, Tasks and a positive Every")
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	const ns, sub = "marquee", "cdnctl"
	m := &hbMetrics{
		beats: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "heartbeats_total",
			Help: "Node heartbeats by result (ok, refused, error)."}, []string{"result"}),
		down: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "nodes_marked_down_total",
			Help: "Nodes marked down after 3 missed heartbeats."}),
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "index_apply_seconds",
			Help: "Time to apply one heartbeat's deltas to the global index.", Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8)}),
		perNode: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "node_health",
			Help: "Each node's last reported health: hit_ratio, egress_bps, peer_bytes, origin_bytes, load1, used_bytes."}, []string{"node", "what"}),
		lastSeen: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "node_last_seen_seconds",
			Help: "Unix time of each node's last heartbeat."}, []string{"node"}),
	}
	if p.Registerer != nil {
		for _, c := range []prometheus.Collector{m.beats, m.down, m.apply, m.perNode, m.lastSeen} {
			if err := p.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("cdnctl: register metrics: %w", err)
			}
		}
	}
	return &Heartbeats{p: p, m: m, seen: map[string]bool{}}, nil
}

// Authenticate returns the node whose credential this is, or an error
// wrapping ErrNodeRefused.
func (h *Heartbeats) Authenticate(ctx context.Context, credential string) (string, error) {
	node, err := h.p.Auth.Authenticate(ctx, credential)
	if err != nil {
		h.m.beats.WithLabelValues("refused").Inc()
		h.p.Logger.Warn("cdn heartbeat refused", "err", err)
		return "", fmt.Errorf("%w (%v)", ErrNodeRefused, err)
	}
	return node, nil
}

// Handle applies hb from node (see Authenticate) to the index and the
// node's state, and replies with the node's pending tasks. A node this
// process has not heard from yet is asked for its whole inventory, unless
// hb is one.
func (h *Heartbeats) Handle(ctx context.Context, node string, hb *cdnwire.Heartbeat) (cdnwire.HeartbeatReply, error) {
	start := time.Now()
	if err := h.p.Index.Apply(ctx, node, hb.Full, hb.Added, hb.Evicted); err != nil {
		h.m.beats.WithLabelValues("error").Inc()
		return cdnwire.HeartbeatReply{}, err
	}
	h.m.apply.Observe(time.Since(start).Seconds())
	now := h.p.Now()
	if err := h.p.Nodes.Report(ctx, node, hb.Capacity, hb.Health, now); err != nil {
		h.m.beats.WithLabelValues("error").Inc()
		return cdnwire.HeartbeatReply{}, err
	}
	h.m.beats.WithLabelValues("ok").Inc()
	h.m.lastSeen.WithLabelValues(node).Set(float64(now.Unix()))
	for what, v := range map[string]float64{"hit_ratio": hb.Health.HitRatio, "egress_bps": hb.Health.EgressBps,
		"peer_bytes": float64(hb.Health.PeerBytes), "origin_bytes": float64(hb.Health.OriginBytes),
		"load1": hb.Health.Load1, "used_bytes": float64(hb.Capacity.UsedBytes)} {
		h.m.perNode.WithLabelValues(node, what).Set(v)
	}
	h.mu.Lock()
	known := h.seen[node]
	h.seen[node] = known || hb.Full
	h.mu.Unlock()
	if h.p.Observe != nil {
		h.p.Observe(node, hb)
	}
	return cdnwire.HeartbeatReply{WantFull: !known && !hb.Full, Tasks: h.p.Tasks.Take(node)}, nil
}

// Sweep marks down the nodes not heard from for MissedHeartbeats periods.
func (h *Heartbeats) Sweep(ctx context.Context) ([]string, error) {
	down, err := h.p.Nodes.MarkDown(ctx, h.p.Now().Add(-MissedHeartbeats*h.p.Every))
	if err != nil {
		return nil, err
	}
	for _, id := range down {
		h.m.down.Inc()
		h.p.Logger.Warn("cdn node marked down: no heartbeat", "node", id, "missed", MissedHeartbeats)
	}
	return down, nil
}

// Run sweeps every period until ctx ends; run it on its own goroutine.
func (h *Heartbeats) Run(ctx context.Context) {
	t := time.NewTicker(h.p.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := h.Sweep(ctx); err != nil && ctx.Err() == nil {
				h.p.Logger.Warn("cdn node sweep", "err", err)
			}
		}
	}
}

// SQLiteNodes is NodeStates on the registry's table cdn_nodes (0008).
type SQLiteNodes struct{ db *sql.DB }

// NewSQLiteNodes uses db, already migrated.
func NewSQLiteNodes(db *sql.DB) *SQLiteNodes { return &SQLiteNodes{db: db} }

// Report implements NodeStates.
func (s *SQLiteNodes) Report(ctx context.Context, node string, c cdnwire.Capacity, h cdnwire.Health, at time.Time) error {
	cj, _ := json.Marshal(c)
	hj, _ := json.Marshal(h)
	_, err := s.db.ExecContext(ctx, `UPDATE cdn_nodes SET capacity_json = ?, health_json = ?, last_seen = ?,
		state = CASE WHEN state = 'revoked' THEN state ELSE 'up' END WHERE id = ?`, string(cj), string(hj), at.Unix(), node)
	if err != nil {
		return fmt.Errorf("cdnctl: record heartbeat of %s: %w", node, err)
	}
	return nil
}

// MarkDown implements NodeStates.
func (s *SQLiteNodes) MarkDown(ctx context.Context, cutoff time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `UPDATE cdn_nodes SET state = 'down' WHERE state = 'up' AND last_seen < ? RETURNING id`, cutoff.Unix())
	if err != nil {
		return nil, fmt.Errorf("cdnctl: mark silent nodes down: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

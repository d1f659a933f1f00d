package cdnctl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// PlanNode is a node as the planner sees it.
type PlanNode struct {
	ID    string
	Mode  string // cdnwire.ModeShared or cdnwire.ModeLocal
	Owner int64  // the owning user's id; ModeLocal only
	State string // "up", "down" or "revoked"
	// MaxBytes is the node's cache size (cdnwire.Capacity.MaxBytes).
	MaxBytes int64
}

// serves reports whether the node may take work for userID: it is up,
// and shared or owned by userID.
func (n PlanNode) serves(userID int64) bool {
	return n.State == "up" && (n.Mode == cdnwire.ModeShared || (n.Mode == cdnwire.ModeLocal && n.Owner == userID))
}

// PlanNodes lists the registered nodes (the registry, with health).
type PlanNodes interface {
	PlanNodes(ctx context.Context) ([]PlanNode, error)
}

// ViewerNodes says which node serves a viewer (their explicit choice, else
// the node the index would choose); ok is false when none would.
type ViewerNodes interface {
	NodeFor(ctx context.Context, userID, itemID int64) (nodeID string, ok bool, err error)
}

// ItemManifests gives an item's objects (the origin's manifest of the
// given renditions; all when nil). *Manifests is one.
type ItemManifests interface {
	Manifest(ctx context.Context, itemID int64, renditions []string) (cdnwire.Manifest, error)
}

// Sources gives an object's ordered sources for a node, already signed
// for it: peers that hold it first, the origin last.
type Sources interface {
	Sources(ctx context.Context, nodeID string, obj cdnwire.ManifestObject) ([]string, error)
}

// Catalog knows what plays after an item: the next episode of a show, the
// next film of a collection.
type Catalog interface {
	Next(ctx context.Context, itemID int64) (next int64, ok bool, err error)
}

// PlannerConfig tunes the planner; zero fields take DefaultPlannerConfig's.
type PlannerConfig struct {
	// Period is how often the owner goroutine warms and balances.
	Period time.Duration
	// HeadMinutes is how much of an item a prefetch or warm-up fetches.
	HeadMinutes int
	// SegmentSeconds is the HLS segment duration (vod.segment_seconds).
	SegmentSeconds int
	// RestAt is the share of item N played after which the rest of N+1
	// is prefetched.
	RestAt float64
	// WarmLead is how long before a scheduled party's start its invitees'
	// nodes are warmed.
	WarmLead time.Duration
	// NodeBudget is the size budget of balancing copies per shared node
	// (capped at the node's MaxBytes when that is known).
	NodeBudget int64
	// MinLifetime is how long a balancing copy is kept at least.
	MinLifetime time.Duration
	// TopItems is how many items each balancing strategy proposes.
	TopItems int
	// Resend is how long a sent prefetch or warm-up is not sent again.
	Resend time.Duration
}

// DefaultPlannerConfig is the planner's configuration when none is given.
func DefaultPlannerConfig() PlannerConfig {
	return PlannerConfig{Period: time.Minute, HeadMinutes: 3, SegmentSeconds: 4, RestAt: 0.8,
		WarmLead: 10 * time.Minute, NodeBudget: 20 << 30, MinLifetime: 48 * time.Hour, TopItems: 20, Resend: 6 * time.Hour}
}

func (c PlannerConfig) withDefaults() PlannerConfig {
	d := DefaultPlannerConfig()
	if c.Period <= 0 {
		c.Period = d.Period
	}
	if c.HeadMinutes <= 0 {
		c.HeadMinutes = d.HeadMinutes
	}
	if c.SegmentSeconds <= 0 {
		c.SegmentSeconds = d.SegmentSeconds
	}
	if c.RestAt <= 0 || c.RestAt >= 1 {
		c.RestAt = d.RestAt
	}
	if c.WarmLead <= 0 {
		c.WarmLead = d.WarmLead
	}
	if c.NodeBudget <= 0 {
		c.NodeBudget = d.NodeBudget
	}
	if c.MinLifetime <= 0 {
		c.MinLifetime = d.MinLifetime
	}
	if c.TopItems <= 0 {
		c.TopItems = d.TopItems
	}
	if c.Resend <= 0 {
		c.Resend = d.Resend
	}
	return c
}

// PlannerParams are a Planner's parts. Nodes, Manifests, Sources and
// Tasks are required; without Viewers nothing is prefetched or warmed,
// without Catalog nothing is prefetched, without Schedules nothing is
// warmed, without Popularity nothing is balanced.
type PlannerParams struct {
	Config     PlannerConfig
	Tasks      *Tasks
	Nodes      PlanNodes
	Manifests  ItemManifests
	Sources    Sources
	Viewers    ViewerNodes
	Catalog    Catalog
	Schedules  Schedules
	Popularity Popularity
	Now        func() time.Time
	Log        *slog.Logger
}

// Planner decides what nodes should hold and enqueues the tasks: predictive
// prefetch, scheduled parties' warm-up and balancing of popular items.
type Planner struct {
	cfg PlannerConfig
	p   PlannerParams

	mu     sync.Mutex
	sent   map[string]time.Time           // task id → when it was sent (prefetch, warm-up)
	copies map[string]map[int64]time.Time // balancing: node → item → keep until

	// seen carries Observe's progress to the owner goroutine.
	seen   chan progressNote
	cancel context.CancelFunc
	done   chan struct{}
}

// progressNote is one Observe call.
type progressNote struct {
	user, item      int64
	positionMs, dur float64
}

// observeBacklog is how many progress notes wait for the loop; more are
// dropped (the next save brings the same news).
const observeBacklog = 256

// NewPlanner checks p and returns an idle planner; Start runs its loop.
func NewPlanner(p PlannerParams) (*Planner, error) {
	if p.Tasks == nil || p.Nodes == nil || p.Manifests == nil || p.Sources == nil {
		return nil, errors.New("cdnctl: the planner needs Tasks, Nodes, Manifests and Sources")
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	return &Planner{cfg: p.Config.withDefaults(), p: p, sent: map[string]time.Time{},
		copies: map[string]map[int64]time.Time{}, seen: make(chan progressNote, observeBacklog)}, nil
}

// Start runs the planner's owner goroutine: every Period it warms the
// nodes of parties about to start and rebalances popular items. Close
// stops it.
func (pl *Planner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	pl.cancel, pl.done = cancel, make(chan struct{})
	go func() {
		defer close(pl.done)
		t := time.NewTicker(pl.cfg.Period)
		defer t.Stop()
		for {
			pl.tick(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case n := <-pl.seen:
				if err := pl.Progress(ctx, n.user, n.item, n.positionMs, n.dur); err != nil && ctx.Err() == nil {
					pl.p.Log.Warn("cdn planner: prefetch", "item", n.item, "err", err)
				}
				continue
			}
		}
	}()
}

// Close cancels the loop and waits for it; a planner never started closes
// at once.
func (pl *Planner) Close() {
	if pl.cancel == nil {
		return
	}
	pl.cancel()
	<-pl.done
}

// Observe hands a viewer's progress in an item (a progress save, or 0 of
// 0 when they ask for its playlist) to the loop for predictive prefetch,
// without waiting; notes beyond the backlog are dropped.
func (pl *Planner) Observe(userID, itemID int64, positionMs, durationMs float64) {
	select {
	case pl.seen <- progressNote{user: userID, item: itemID, positionMs: positionMs, dur: durationMs}:
	default:
	}
}

func (pl *Planner) tick(ctx context.Context) {
	now := pl.p.Now()
	if err := pl.WarmUp(ctx, now); err != nil && ctx.Err() == nil {
		pl.p.Log.Warn("cdn planner: warm-up", "err", err)
	}
	if err := pl.Balance(ctx, now); err != nil && ctx.Err() == nil {
		pl.p.Log.Warn("cdn planner: balance", "err", err)
	}
}

// nodes returns the registered nodes by id.
func (pl *Planner) nodes(ctx context.Context) (map[string]PlanNode, error) {
	ns, err := pl.p.Nodes.PlanNodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: planner nodes: %w", err)
	}
	out := make(map[string]PlanNode, len(ns))
	for _, n := range ns {
		out[n.ID] = n
	}
	return out, nil
}

// head is the part of a manifest that covers its first minutes: objects
// that are not numbered segments (init segments, posters) and segments
// numbered below the head's count. Download files are left to downloads.
func (pl *Planner) head(m cdnwire.Manifest) []cdnwire.ManifestObject {
	n := (pl.cfg.HeadMinutes*60 + pl.cfg.SegmentSeconds - 1) / pl.cfg.SegmentSeconds
	var out []cdnwire.ManifestObject
	for _, o := range m.Objects {
		if o.Kind == cdnwire.KindDownload {
			continue
		}
		if i, ok := segmentIndex(o); !ok || i < n {
			out = append(out, o)
		}
	}
	return out
}

// rest is the part of a manifest head leaves out.
func (pl *Planner) rest(m cdnwire.Manifest) []cdnwire.ManifestObject {
	n := (pl.cfg.HeadMinutes*60 + pl.cfg.SegmentSeconds - 1) / pl.cfg.SegmentSeconds
	var out []cdnwire.ManifestObject
	for _, o := range m.Objects {
		if i, ok := segmentIndex(o); ok && i >= n {
			out = append(out, o)
		}
	}
	return out
}

// segmentIndex reads a media segment's number from its key's base name
// (".../720p/<set>/5.m4s" is 5).
func segmentIndex(o cdnwire.ManifestObject) (int, bool) {
	if o.Kind != cdnwire.KindSegment {
		return 0, false
	}
	base := path.Base(o.Key)
	base = strings.TrimSuffix(base, path.Ext(base))
	i, err := strconv.Atoi(base)
	return i, err == nil && i >= 0
}

// task builds a task of objs for node, with each object's sources.
func (pl *Planner) task(ctx context.Context, node, id, kind string, item int64, objs []cdnwire.ManifestObject, keep *time.Time) (cdnwire.Task, error) {
	t := cdnwire.Task{ID: id, Kind: kind, ItemID: item, KeepUntil: keep, Objects: make([]cdnwire.TaskObject, 0, len(objs))}
	for _, o := range objs {
		src, err := pl.p.Sources.Sources(ctx, node, o)
		if err != nil {
			return t, fmt.Errorf("cdnctl: sources of %s for %s: %w", o.Key, node, err)
		}
		t.Objects = append(t.Objects, cdnwire.TaskObject{Key: o.Key, Bytes: o.Bytes, SHA256: o.SHA256, Sources: src})
	}
	return t, nil
}

// sendOnce enqueues a task of objs for node unless a task with that id was
// sent within Resend.
func (pl *Planner) sendOnce(ctx context.Context, node, id, kind string, item int64, objs []cdnwire.ManifestObject, now time.Time) error {
	if len(objs) == 0 {
		return nil
	}
	pl.mu.Lock()
	at, seen := pl.sent[id]
	pl.mu.Unlock()
	if seen && now.Sub(at) < pl.cfg.Resend {
		return nil
	}
	t, err := pl.task(ctx, node, id, kind, item, objs, nil)
	if err != nil {
		return err
	}
	pl.p.Tasks.Enqueue(node, t)
	pl.mu.Lock()
	pl.sent[id] = now
	for k, v := range pl.sent {
		if now.Sub(v) >= pl.cfg.Resend {
			delete(pl.sent, k)
		}
	}
	pl.mu.Unlock()
	return nil
}

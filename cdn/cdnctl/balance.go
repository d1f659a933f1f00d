package cdnctl

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// Popularity proposes items for balancing, best first (PeerTube's
// redundancy strategies).
type Popularity interface {
	// MostViewed lists the items played most since a time.
	MostViewed(ctx context.Context, since time.Time, n int) ([]int64, error)
	// RecentlyAdded lists the items added to the library last.
	RecentlyAdded(ctx context.Context, n int) ([]int64, error)
}

// balanceWindow is how far back MostViewed counts plays.
const balanceWindow = 7 * 24 * time.Hour

// Balance asks every shared, up node to hold the most-viewed and the
// recently added items, alternately, within NodeBudget (and the node's
// MaxBytes). A copy is kept at least MinLifetime (Task.KeepUntil) and
// counts against the budget until then, even when it is no longer
// proposed; an expired copy no longer proposed leaves the plan and its
// room goes to the next candidate.
func (pl *Planner) Balance(ctx context.Context, now time.Time) error {
	if pl.p.Popularity == nil {
		return nil
	}
	cands, err := pl.candidates(ctx, now)
	if err != nil {
		return err
	}
	ns, err := pl.nodes(ctx)
	if err != nil {
		return err
	}
	sizes := map[int64]cdnwire.Manifest{}
	manifest := func(item int64) (cdnwire.Manifest, error) {
		if m, ok := sizes[item]; ok {
			return m, nil
		}
		m, err := pl.p.Manifests.Manifest(ctx, item, nil)
		if err != nil {
			return m, fmt.Errorf("cdnctl: manifest of %d: %w", item, err)
		}
		sizes[item] = m
		return m, nil
	}
	ids := make([]string, 0, len(ns))
	for id := range ns {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := ns[id]
		if n.State != "up" || n.Mode != cdnwire.ModeShared {
			continue
		}
		if err := pl.balanceNode(ctx, n, cands, manifest, now); err != nil {
			return err
		}
	}
	pl.mu.Lock()
	for id := range pl.copies {
		if n, ok := ns[id]; !ok || n.State == "revoked" {
			delete(pl.copies, id)
		}
	}
	pl.mu.Unlock()
	return nil
}

// candidates interleaves the strategies' proposals, without repeats.
func (pl *Planner) candidates(ctx context.Context, now time.Time) ([]int64, error) {
	mv, err := pl.p.Popularity.MostViewed(ctx, now.Add(-balanceWindow), pl.cfg.TopItems)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: most viewed: %w", err)
	}
	ra, err := pl.p.Popularity.RecentlyAdded(ctx, pl.cfg.TopItems)
	if err != nil {
		return nil, fmt.Errorf("cdnctl: recently added: %w", err)
	}
	seen := map[int64]bool{}
	var out []int64
	for i := 0; i < len(mv) || i < len(ra); i++ {
		for _, l := range [][]int64{mv, ra} {
			if i < len(l) && !seen[l[i]] {
				seen[l[i]] = true
				out = append(out, l[i])
			}
		}
	}
	return out, nil
}

// balanceNode plans one node's copies and enqueues the new ones.
func (pl *Planner) balanceNode(ctx context.Context, n PlanNode, cands []int64,
	manifest func(int64) (cdnwire.Manifest, error), now time.Time) error {
	budget := pl.cfg.NodeBudget
	if n.MaxBytes > 0 && n.MaxBytes < budget {
		budget = n.MaxBytes
	}
	proposed := map[int64]bool{}
	for _, c := range cands {
		proposed[c] = true
	}
	pl.mu.Lock()
	held := map[int64]time.Time{}
	for item, keep := range pl.copies[n.ID] {
		if now.Before(keep) || proposed[item] {
			held[item] = keep
		}
	}
	pl.mu.Unlock()
	var used int64
	for item := range held {
		m, err := manifest(item)
		if err != nil {
			return err
		}
		used += manifestBytes(m)
	}
	for _, item := range cands {
		if _, ok := held[item]; ok {
			continue
		}
		m, err := manifest(item)
		if err != nil {
			return err
		}
		size := manifestBytes(m)
		if size == 0 || used+size > budget {
			continue
		}
		keep := now.Add(pl.cfg.MinLifetime)
		t, err := pl.task(ctx, n.ID, fmt.Sprintf("%s:balance:%d", n.ID, item), cdnwire.TaskReplicate, item, m.Objects, &keep)
		if err != nil {
			return err
		}
		pl.p.Tasks.Enqueue(n.ID, t)
		held[item] = keep
		used += size
	}
	pl.mu.Lock()
	pl.copies[n.ID] = held
	pl.mu.Unlock()
	return nil
}

func manifestBytes(m cdnwire.Manifest) int64 {
	var b int64
	for _, o := range m.Objects {
		b += o.Bytes
	}
	return b
}

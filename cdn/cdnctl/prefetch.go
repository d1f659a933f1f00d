package cdnctl

import (
	"context"
	"fmt"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// ScheduledParty is a party with a start time, as warm-up needs it.
type ScheduledParty struct {
	ID        int64
	StartsAt  time.Time
	FirstItem int64   // the library item its queue starts with; 0 when empty
	Members   []int64 // user ids of its members and invitees known so far
}

// Schedules lists the parties whose start lies in [from, to).
type Schedules interface {
	Upcoming(ctx context.Context, from, to time.Time) ([]ScheduledParty, error)
}

// Progress is predictive prefetch's hook: userID played itemID to
// positionMs of durationMs (a progress save, or 0 of it on a playlist
// request). The node serving the viewer is handed the first minutes of the
// item that plays next, and the rest once RestAt of this one is played.
func (pl *Planner) Progress(ctx context.Context, userID, itemID int64, positionMs, durationMs float64) error {
	if pl.p.Catalog == nil || pl.p.Viewers == nil {
		return nil
	}
	next, ok, err := pl.p.Catalog.Next(ctx, itemID)
	if err != nil || !ok {
		return err
	}
	node, ok, err := pl.eligibleNode(ctx, userID, next)
	if err != nil || !ok {
		return err
	}
	m, err := pl.p.Manifests.Manifest(ctx, next, nil)
	if err != nil {
		return fmt.Errorf("cdnctl: manifest of %d: %w", next, err)
	}
	now := pl.p.Now()
	id := fmt.Sprintf("%s:prefetch:%d", node, next)
	if err := pl.sendOnce(ctx, node, id+":head", cdnwire.TaskPrefetch, next, pl.head(m), now); err != nil {
		return err
	}
	if durationMs > 0 && positionMs/durationMs >= pl.cfg.RestAt {
		return pl.sendOnce(ctx, node, id+":rest", cdnwire.TaskPrefetch, next, pl.rest(m), now)
	}
	return nil
}

// eligibleNode is the node serving userID for itemID, when it is up and
// may serve them.
func (pl *Planner) eligibleNode(ctx context.Context, userID, itemID int64) (string, bool, error) {
	id, ok, err := pl.p.Viewers.NodeFor(ctx, userID, itemID)
	if err != nil || !ok {
		return "", false, err
	}
	ns, err := pl.nodes(ctx)
	if err != nil {
		return "", false, err
	}
	n, known := ns[id]
	return id, known && n.serves(userID), nil
}

// WarmUp hands the nodes that will serve a scheduled party's members the
// first minutes of its first item, WarmLead before its start. Each node is
// warmed once per party and item.
func (pl *Planner) WarmUp(ctx context.Context, now time.Time) error {
	if pl.p.Schedules == nil || pl.p.Viewers == nil {
		return nil
	}
	ps, err := pl.p.Schedules.Upcoming(ctx, now, now.Add(pl.cfg.WarmLead))
	if err != nil {
		return fmt.Errorf("cdnctl: upcoming parties: %w", err)
	}
	ns, err := pl.nodes(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.FirstItem == 0 {
			continue
		}
		targets := map[string]bool{}
		for _, u := range p.Members {
			id, ok, err := pl.p.Viewers.NodeFor(ctx, u, p.FirstItem)
			if err != nil {
				return err
			}
			if n, known := ns[id]; ok && known && n.serves(u) {
				targets[id] = true
			}
		}
		if len(targets) == 0 {
			continue
		}
		m, err := pl.p.Manifests.Manifest(ctx, p.FirstItem, nil)
		if err != nil {
			return fmt.Errorf("cdnctl: manifest of %d: %w", p.FirstItem, err)
		}
		head := pl.head(m)
		for node := range targets {
			id := fmt.Sprintf("%s:warm:%d:%d", node, p.ID, p.FirstItem)
			if err := pl.sendOnce(ctx, node, id, cdnwire.TaskPrefetch, p.FirstItem, head, now); err != nil {
				return err
			}
		}
	}
	return nil
}

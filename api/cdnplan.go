package api

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// What the CDN planner needs, from the library and the parties; the
// registry and index parts (cdnctl.PlanNodes, ViewerNodes, Manifests,
// Sources) come from package cdnctl itself.
var (
	_ cdnctl.Catalog    = PlanCatalog{}
	_ cdnctl.Schedules  = PlanSchedules{}
	_ cdnctl.Popularity = (*library.Service)(nil)
	_ Prefetcher        = (*cdnctl.Planner)(nil)
)

// PlanCatalog tells the CDN planner what plays after an item
// (cdnctl.Catalog): the next episode of its show, season by season,
// specials last. The library has no collections, so a film has no next.
type PlanCatalog struct{ Lib *library.Service }

// Next returns the item that plays after itemID, if any.
func (c PlanCatalog) Next(ctx context.Context, itemID int64) (int64, bool, error) {
	it, err := c.Lib.Item(ctx, itemID)
	if err != nil || it.Kind != library.ItemEpisode {
		return 0, false, err
	}
	show := it
	for show.Kind != library.ItemShow && show.ParentID != 0 {
		if show, err = c.Lib.Item(ctx, show.ParentID); err != nil {
			return 0, false, err
		}
	}
	order, err := c.Lib.PlayOrder(ctx, show.ID)
	if err != nil {
		return 0, false, err
	}
	for i := range order[:max(len(order)-1, 0)] {
		if order[i].ID == itemID {
			return order[i+1].ID, true, nil
		}
	}
	return 0, false, nil
}

// PlanSchedules lists scheduled parties for the CDN planner's warm-up
// (cdnctl.Schedules): each with the first playable item of its queue and
// its members. Invitees who have not joined yet are unknown (an invite is
// a link, not a user), so only members' nodes are warmed.
type PlanSchedules struct {
	Parties *party.Service
	Lib     *library.Service
}

// Upcoming returns the parties starting in [from, to).
func (s PlanSchedules) Upcoming(ctx context.Context, from, to time.Time) ([]cdnctl.ScheduledParty, error) {
	ps, err := s.Parties.Scheduled(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]cdnctl.ScheduledParty, 0, len(ps))
	for _, p := range ps {
		sp := cdnctl.ScheduledParty{ID: p.ID, StartsAt: time.UnixMilli(*p.StartsAtMs)}
		if sp.FirstItem, err = s.firstItem(ctx, p.ID); err != nil {
			return nil, err
		}
		ms, err := s.Parties.Members(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			sp.Members = append(sp.Members, m.UserID)
		}
		out = append(out, sp)
	}
	return out, nil
}

// firstItem is the first playable library item of a party's queue (a
// show's or season's first episode), 0 when there is none.
func (s PlanSchedules) firstItem(ctx context.Context, partyID int64) (int64, error) {
	q, err := s.Parties.Queue(ctx, partyID)
	if err != nil {
		return 0, err
	}
	for _, e := range q {
		if e.Status != party.EntryQueued && e.Status != party.EntryPlaying {
			continue
		}
		id, err := strconv.ParseInt(e.SourceID, 10, 64)
		if err != nil || s.Lib == nil {
			return 0, nil
		}
		order, err := s.Lib.PlayOrder(ctx, id)
		if errors.Is(err, library.ErrNotFound) || errors.Is(err, library.ErrNotPlayable) {
			return 0, nil
		}
		if err != nil || len(order) == 0 {
			return 0, err
		}
		return order[0].ID, nil
	}
	return 0, nil
}

package discordbridge

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// NowPlaying implements discord.PartyInfo. A stopped or deleted party is
// over (discord.ErrPartyOver): the bot posts its final embed and detaches.
func (b *Bridge) NowPlaying(ctx context.Context, partyID string) (discord.NowPlaying, error) {
	id, err := parseID(partyID)
	if err != nil {
		return discord.NowPlaying{}, fmt.Errorf("%w: %w", discord.ErrPartyOver, err)
	}
	p, err := b.p.Parties.Get(ctx, id)
	if errors.Is(err, party.ErrNotFound) || (err == nil && p.Status == party.StatusStopped) {
		b.forget(id)
		return discord.NowPlaying{}, fmt.Errorf("party %d: %w", id, discord.ErrPartyOver)
	}
	if err != nil {
		return discord.NowPlaying{}, err
	}
	ws, err := b.p.Parties.WorkerState(ctx, id)
	if err != nil {
		return discord.NowPlaying{}, err
	}
	np := discord.NowPlaying{Item: discord.CatalogItem{Title: p.Title}, State: stateOf(p.Status),
		Position: seconds(ws.PositionSeconds), Duration: seconds(ws.DurationSeconds)}
	if p.CurrentEntryID != nil {
		if e, err := b.p.Parties.Entry(ctx, id, *p.CurrentEntryID); err == nil {
			np.Item = entryItem(e)
			np.Item.PosterURL = b.posterURL(ctx, e.SourceID)
			if np.Duration <= 0 {
				np.Duration = seconds(e.RuntimeSeconds)
			}
		}
		if ws.QueueEntryID == nil || *ws.QueueEntryID != *p.CurrentEntryID {
			np.Position = 0 // the worker's position is still the previous entry's
		}
	}
	if np.State == "playing" && ws.UpdatedAtMs > 0 {
		// The worker reports every few seconds: extrapolate in between.
		np.Position += max(0, b.p.Now().Sub(time.UnixMilli(ws.UpdatedAtMs)))
	}
	if np.Duration > 0 {
		np.Position = min(np.Position, np.Duration)
	}
	if np.Viewers, err = b.viewers(ctx, id); err != nil {
		return discord.NowPlaying{}, err
	}
	if np.InviteURL, err = b.inviteURL(ctx, p); err != nil {
		return discord.NowPlaying{}, err
	}
	return np, nil
}

// stateOf maps a party status onto the embed's states.
func stateOf(s party.Status) string {
	switch s {
	case party.StatusPlaying:
		return "playing"
	case party.StatusPaused:
		return "paused"
	case party.StatusConnecting:
		return "loading"
	}
	return "stopped" // draft, queued, error: nothing is being published
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// viewers counts the party's active members but the service account.
func (b *Bridge) viewers(ctx context.Context, partyID int64) (int, error) {
	ms, err := b.p.Parties.Members(ctx, partyID)
	if err != nil {
		return 0, err
	}
	b.mu.Lock()
	svc := b.serviceID
	b.mu.Unlock()
	n := 0
	for _, m := range ms {
		if m.UserID != svc {
			n++
		}
	}
	return n, nil
}

// Queue implements discord.PartyInfo: the entries still waiting to play.
func (b *Bridge) Queue(ctx context.Context, partyID string) ([]discord.QueueEntry, error) {
	id, err := parseID(partyID)
	if err != nil {
		return nil, public(err)
	}
	es, err := b.p.Parties.Queue(ctx, id)
	if err != nil {
		return nil, public(err)
	}
	var out []discord.QueueEntry
	for _, e := range es {
		if e.Status == party.EntryQueued {
			out = append(out, discord.QueueEntry{ID: formatID(e.ID), Item: entryItem(e)})
		}
	}
	return out, nil
}

// Search implements discord.PartyInfo over every library: titles that
// contain query, after the item whose id is query (the bot resolves an
// autocomplete choice, whose value is an item id, through Search).
func (b *Bridge) Search(ctx context.Context, query string, limit int) ([]discord.CatalogItem, error) {
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	var out []discord.CatalogItem
	seen := map[int64]bool{}
	if id, err := strconv.ParseInt(query, 10, 64); err == nil && id > 0 {
		if it, err := b.p.Library.Item(ctx, id); err == nil {
			out = append(out, catalogItem(it))
			seen[it.ID] = true
		}
	}
	items, err := b.p.Library.Items(ctx, library.Query{Search: query, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if len(out) == limit {
			break
		}
		if !seen[it.ID] {
			out = append(out, catalogItem(it))
		}
	}
	return out, nil
}

// catalogItem describes a library item. Posters are left out: they are
// served to signed-in users only, so Discord could not fetch them.
func catalogItem(it library.Item) discord.CatalogItem {
	return discord.CatalogItem{ID: strconv.FormatInt(it.ID, 10), Title: library.DisplayTitle(it), Year: it.Year,
		MediaType: string(it.Kind)}
}

// entryItem describes a queue entry (its source id is a library item id).
func entryItem(e party.Entry) discord.CatalogItem {
	return discord.CatalogItem{ID: e.SourceID, Title: e.Title, Year: e.Year, MediaType: string(e.MediaType)}
}

// posterURL links the poster of a library item for the embed, or returns
// "" (the embed goes without) when there is none or no way to sign one.
func (b *Bridge) posterURL(ctx context.Context, sourceID string) string {
	id, err := strconv.ParseInt(sourceID, 10, 64)
	if b.p.PosterURL == nil || err != nil {
		return ""
	}
	u, err := b.p.PosterURL(ctx, id)
	if err != nil {
		b.log.Debug("no poster for the embed", "item", sourceID, "err", err)
		return ""
	}
	return u
}

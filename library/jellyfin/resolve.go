package jellyfin

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/marquee-party/marquee/library"
)

// Resolve implements library.RemoteResolver: a movie, episode or track
// plays from its stream URL (download URL as fallback); a show or season
// asks Jellyfin for the user's episodes and plays the first unplayed one
// (regular seasons before specials; the first episode if all were played).
func (c *Client) Resolve(ctx context.Context, lib library.Library, it library.Item) (library.Target, error) {
	if !strings.HasPrefix(lib.Location, c.BaseURL()+"#") {
		return library.Target{}, fmt.Errorf("%w: library %d belongs to another Jellyfin server", library.ErrNotPlayable, lib.ID)
	}
	switch it.Kind {
	case library.ItemMovie, library.ItemEpisode, library.ItemTrack:
		if _, err := c.UserID(ctx); err != nil { // the audio URL names the user
			return library.Target{}, err
		}
		return c.target(it.SourceID, it.Kind, it.DurationMs*10_000), nil
	case library.ItemShow, library.ItemSeason:
		uid, err := c.UserID(ctx)
		if err != nil {
			return library.Target{}, err
		}
		eps, err := c.seasonOrShowEpisodes(ctx, uid, it)
		if err != nil {
			return library.Target{}, err
		}
		ep, ok := nextEpisode(eps)
		if !ok {
			return library.Target{}, fmt.Errorf("%w: %s %q has no episodes", library.ErrNotPlayable, it.Kind, it.Title)
		}
		return c.target(ep.ID, library.ItemEpisode, ep.RunTimeTicks), nil
	}
	return library.Target{}, fmt.Errorf("%w: %s", library.ErrNotPlayable, it.Kind)
}

func (c *Client) seasonOrShowEpisodes(ctx context.Context, uid string, it library.Item) ([]Item, error) {
	if it.Kind == library.ItemShow {
		return c.Episodes(ctx, uid, it.SourceID, "")
	}
	// Seasons made up at import are named season:<series id>:<number>.
	if rest, ok := strings.CutPrefix(it.SourceID, "season:"); ok {
		series, _, _ := strings.Cut(rest, ":")
		eps, err := c.Episodes(ctx, uid, series, "")
		if err != nil {
			return nil, err
		}
		var in []Item
		for _, e := range eps {
			if e.ParentIndexNumber == it.SeasonNumber {
				in = append(in, e)
			}
		}
		return in, nil
	}
	var qr queryResult
	q := url.Values{"userId": {uid}, "ParentId": {it.SourceID}, "Recursive": {"true"},
		"IncludeItemTypes": {"Episode"}, "Fields": {itemFields}, "EnableUserData": {"true"}}
	if err := c.get(ctx, "/Items", q, &qr); err != nil {
		return nil, err
	}
	return qr.Items, nil
}

// nextEpisode picks the first unplayed episode, specials last.
func nextEpisode(eps []Item) (Item, bool) {
	eps = append([]Item(nil), eps...)
	sortEpisodes(eps)
	var ordered []Item
	for _, e := range eps {
		if e.ParentIndexNumber > 0 {
			ordered = append(ordered, e)
		}
	}
	for _, e := range eps {
		if e.ParentIndexNumber == 0 {
			ordered = append(ordered, e)
		}
	}
	for _, e := range ordered {
		if !e.Played() {
			return e, true
		}
	}
	if len(ordered) == 0 {
		return Item{}, false
	}
	return ordered[0], true
}

// target builds the playback contract; durationSeconds is RunTimeTicks/1e7.
func (c *Client) target(id string, kind library.ItemKind, ticks int64) library.Target {
	return library.Target{
		Item: library.Item{SourceID: id, Kind: kind},
		Playback: library.Playback{
			StreamURL:       c.StreamURL(id, kind == library.ItemTrack),
			DownloadURL:     c.DownloadURL(id),
			DurationSeconds: float64(ticks) / 1e7,
		},
	}
}

package tmdb

import (
	"context"
	"fmt"
	"strconv"

	"github.com/marquee-party/marquee/library"
)

// Name implements library.Provider.
func (c *Client) Name() string { return "tmdb" }

// Lookup implements library.Provider: a known TMDB id is fetched directly,
// otherwise the best search hit (by title and year, then title alone).
func (c *Client) Lookup(ctx context.Context, q library.LookupQuery) (library.Metadata, error) {
	switch q.Kind {
	case library.ItemMovie:
		return c.lookupMovie(ctx, q)
	case library.ItemShow:
		return c.lookupTV(ctx, q)
	}
	return library.Metadata{}, fmt.Errorf("%w: tmdb has no %s", library.ErrNoMatch, q.Kind)
}

func (c *Client) lookupMovie(ctx context.Context, q library.LookupQuery) (library.Metadata, error) {
	id, _ := strconv.Atoi(q.IDs["tmdb"])
	if id == 0 {
		res, err := c.SearchMovie(ctx, q.Title, q.Year)
		if err == nil && len(res) == 0 && q.Year > 0 {
			res, err = c.SearchMovie(ctx, q.Title, 0)
		}
		if err != nil {
			return library.Metadata{}, err
		}
		if len(res) == 0 {
			return library.Metadata{}, fmt.Errorf("%w: movie %q (%d)", library.ErrNoMatch, q.Title, q.Year)
		}
		id = res[0].ID
	}
	m, err := c.Movie(ctx, id)
	if err != nil {
		return library.Metadata{}, err
	}
	md := library.Metadata{Title: m.Title, Year: year(m.ReleaseDate), Summary: m.Overview, RuntimeMinutes: m.Runtime,
		Genres: names(m.Genres), IDs: map[string]string{"tmdb": strconv.Itoa(m.ID)},
		PosterURL: c.ImageURL(m.PosterPath, DefaultPosterSize)}
	if m.IMDbID != "" {
		md.IDs["imdb"] = m.IMDbID
	}
	return md, nil
}

func (c *Client) lookupTV(ctx context.Context, q library.LookupQuery) (library.Metadata, error) {
	id, _ := strconv.Atoi(q.IDs["tmdb"])
	if id == 0 {
		res, err := c.SearchTV(ctx, q.Title, q.Year)
		if err == nil && len(res) == 0 && q.Year > 0 {
			res, err = c.SearchTV(ctx, q.Title, 0)
		}
		if err != nil {
			return library.Metadata{}, err
		}
		if len(res) == 0 {
			return library.Metadata{}, fmt.Errorf("%w: series %q (%d)", library.ErrNoMatch, q.Title, q.Year)
		}
		id = res[0].ID
	}
	t, err := c.TV(ctx, id)
	if err != nil {
		return library.Metadata{}, err
	}
	md := library.Metadata{Title: t.Name, Year: year(t.FirstAirDate), Summary: t.Overview, Genres: names(t.Genres),
		IDs: map[string]string{"tmdb": strconv.Itoa(t.ID)}, PosterURL: c.ImageURL(t.PosterPath, DefaultPosterSize)}
	if len(t.EpisodeRunTime) > 0 {
		md.RuntimeMinutes = t.EpisodeRunTime[0]
	}
	return md, nil
}

func year(date string) int {
	if len(date) < 4 {
		return 0
	}
	y, _ := strconv.Atoi(date[:4])
	return y
}

func names(gs []Genre) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

package jellyfin

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/marquee-party/marquee/library"
)

// Imported reports one imported Jellyfin library.
type Imported struct {
	Library library.Library
	library.ImportResult
	// Posters counts images fetched; PosterErrors those that failed (the
	// items are kept without a poster).
	Posters, PosterErrors int
}

// kindOf maps a view's CollectionType to a library kind.
func kindOf(collectionType string) (library.Kind, bool) {
	switch strings.ToLower(collectionType) {
	case "movies":
		return library.KindMovies, true
	case "tvshows":
		return library.KindShows, true
	case "music":
		return library.KindMusic, true
	}
	return "", false
}

// Location is the library location used for a view of this server.
func (c *Client) Location(viewID string) string { return c.BaseURL() + "#" + viewID }

// ImportAll imports every movies, shows and music view of the user.
func (c *Client) ImportAll(ctx context.Context, svc *library.Service) ([]Imported, error) {
	uid, err := c.UserID(ctx)
	if err != nil {
		return nil, err
	}
	views, err := c.Views(ctx, uid)
	if err != nil {
		return nil, err
	}
	var out []Imported
	for _, v := range views {
		if _, ok := kindOf(v.CollectionType); !ok {
			continue
		}
		imp, err := c.importView(ctx, svc, uid, v)
		if err != nil {
			return out, err
		}
		out = append(out, imp)
	}
	return out, nil
}

// Import imports one view, named by id or name, creating its Marquee
// library on first import. Items gone from Jellyfin are removed; manual
// edits of the others are kept.
func (c *Client) Import(ctx context.Context, svc *library.Service, view string) (Imported, error) {
	uid, err := c.UserID(ctx)
	if err != nil {
		return Imported{}, err
	}
	views, err := c.Views(ctx, uid)
	if err != nil {
		return Imported{}, err
	}
	for _, v := range views {
		if v.ID == view || strings.EqualFold(v.Name, view) {
			return c.importView(ctx, svc, uid, v)
		}
	}
	return Imported{}, fmt.Errorf("%w: %q", ErrNoView, view)
}

func (c *Client) importView(ctx context.Context, svc *library.Service, uid string, v Item) (Imported, error) {
	kind, ok := kindOf(v.CollectionType)
	if !ok {
		return Imported{}, fmt.Errorf("%w: %q holds %q, not movies, tvshows or music", ErrNoView, v.Name, v.CollectionType)
	}
	lib, err := svc.FindLibrary(ctx, library.SourceJellyfin, c.Location(v.ID))
	if err != nil {
		if lib, err = svc.CreateRemoteLibrary(ctx, v.Name, kind, library.SourceJellyfin, c.Location(v.ID)); err != nil {
			return Imported{}, err
		}
	}
	items, err := c.Items(ctx, uid, v.ID, []string{"Movie", "Series", "Episode", "Audio"})
	if err != nil {
		return Imported{}, err
	}
	var remote []library.RemoteItem
	switch kind {
	case library.KindMovies:
		remote = movies(items)
	case library.KindShows:
		if remote, err = c.shows(ctx, uid, items); err != nil {
			return Imported{}, err
		}
	case library.KindMusic:
		remote = music(items)
	}
	res, err := svc.ImportRemote(ctx, lib.ID, remote)
	if err != nil {
		return Imported{}, err
	}
	imp := Imported{Library: lib, ImportResult: res}
	c.fetchPosters(ctx, svc, items, &imp)
	return imp, nil
}

// posterWorkers is how many images an import fetches at once.
const posterWorkers = 4

// fetchPosters stores the primary image of items that have none yet.
func (c *Client) fetchPosters(ctx context.Context, svc *library.Service, items []Item, imp *Imported) {
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(posterWorkers)
	for _, it := range items {
		tag := it.ImageTags["Primary"]
		id := imp.IDs[it.ID]
		if tag == "" || id == 0 {
			continue
		}
		if cur, err := svc.Item(ctx, id); err != nil || cur.HasPoster {
			continue
		}
		g.Go(func() error {
			img, err := c.PrimaryImage(ctx, it.ID, tag)
			if err == nil {
				err = svc.SetPosterImage(ctx, id, bytes.NewReader(img))
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				imp.PosterErrors++
			} else {
				imp.Posters++
			}
			return nil
		})
	}
	_ = g.Wait()
}

func base(it Item, kind library.ItemKind) library.RemoteItem {
	ids := map[string]string{"jellyfin": it.ID}
	for k, v := range it.ProviderIDs {
		if v != "" {
			ids[strings.ToLower(k)] = v
		}
	}
	return library.RemoteItem{SourceID: it.ID, Kind: kind, Title: it.Name, Year: it.ProductionYear,
		Summary: it.Overview, Genres: it.Genres, ExternalIDs: ids, DurationMs: it.RunTimeTicks / 10_000,
		Played: it.Played()}
}

func movies(items []Item) []library.RemoteItem {
	var out []library.RemoteItem
	for _, it := range items {
		if it.Type == "Movie" {
			out = append(out, base(it, library.ItemMovie))
		}
	}
	return out
}

// shows builds series → seasons → episodes, parents first. Episodes whose
// season Jellyfin did not list get a season made from their number.
func (c *Client) shows(ctx context.Context, uid string, items []Item) ([]library.RemoteItem, error) {
	var out []library.RemoteItem
	episodes := map[string][]Item{}
	for _, it := range items {
		if it.Type == "Episode" {
			episodes[it.SeriesID] = append(episodes[it.SeriesID], it)
		}
	}
	for _, s := range items {
		if s.Type != "Series" {
			continue
		}
		out = append(out, base(s, library.ItemShow))
		seasons, err := c.Seasons(ctx, uid, s.ID)
		if err != nil {
			return nil, err
		}
		known := map[string]bool{}
		for _, se := range seasons {
			ri := base(se, library.ItemSeason)
			ri.ParentSourceID, ri.Season = s.ID, se.IndexNumber
			out = append(out, ri)
			known[se.ID] = true
		}
		eps := episodes[s.ID]
		sortEpisodes(eps)
		for _, e := range eps {
			parent := e.SeasonID
			if !known[parent] {
				parent = fmt.Sprintf("season:%s:%d", s.ID, e.ParentIndexNumber)
				if !known[parent] {
					known[parent] = true
					out = append(out, library.RemoteItem{SourceID: parent, ParentSourceID: s.ID, Kind: library.ItemSeason,
						Title: seasonName(e.ParentIndexNumber), Season: e.ParentIndexNumber})
				}
			}
			ri := base(e, library.ItemEpisode)
			ri.ParentSourceID, ri.Season, ri.Episode = parent, e.ParentIndexNumber, e.IndexNumber
			out = append(out, ri)
		}
	}
	return out, nil
}

func seasonName(n int) string {
	if n == 0 {
		return "Specials"
	}
	return fmt.Sprintf("Season %d", n)
}

// sortEpisodes orders by season then episode number.
func sortEpisodes(eps []Item) {
	sort.SliceStable(eps, func(i, j int) bool {
		if eps[i].ParentIndexNumber != eps[j].ParentIndexNumber {
			return eps[i].ParentIndexNumber < eps[j].ParentIndexNumber
		}
		return eps[i].IndexNumber < eps[j].IndexNumber
	})
}

// music builds artist → album → track from the tracks' album fields.
func music(items []Item) []library.RemoteItem {
	var artists, albums, tracks []library.RemoteItem
	seen := map[string]bool{}
	for _, it := range items {
		if it.Type != "Audio" {
			continue
		}
		artist := it.AlbumArtist
		if artist == "" && len(it.Artists) > 0 {
			artist = it.Artists[0]
		}
		if artist == "" {
			artist = "Unknown artist"
		}
		album := it.Album
		if album == "" {
			album = "Unknown album"
		}
		artistID := "artist:" + strings.ToLower(artist)
		albumID := it.AlbumID
		if albumID == "" {
			albumID = "album:" + strings.ToLower(artist) + ":" + strings.ToLower(album)
		}
		if !seen[artistID] {
			seen[artistID] = true
			artists = append(artists, library.RemoteItem{SourceID: artistID, Kind: library.ItemArtist, Title: artist})
		}
		if !seen[albumID] {
			seen[albumID] = true
			albums = append(albums, library.RemoteItem{SourceID: albumID, ParentSourceID: artistID, Kind: library.ItemAlbum,
				Title: album, Year: it.ProductionYear})
		}
		ri := base(it, library.ItemTrack)
		ri.ParentSourceID, ri.Track = albumID, it.IndexNumber
		tracks = append(tracks, ri)
	}
	return append(append(artists, albums...), tracks...)
}

package library

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ItemKind is the type of a catalog entry.
type ItemKind string

// Item kinds. Movies, episodes and tracks are playable files; shows,
// seasons, artists and albums are containers.
const (
	ItemMovie   ItemKind = "movie"
	ItemShow    ItemKind = "show"
	ItemSeason  ItemKind = "season"
	ItemEpisode ItemKind = "episode"
	ItemArtist  ItemKind = "artist"
	ItemAlbum   ItemKind = "album"
	ItemTrack   ItemKind = "track"
)

// Playable reports whether items of this kind are media files.
func (k ItemKind) Playable() bool { return k == ItemMovie || k == ItemEpisode || k == ItemTrack }

// Item is one catalog entry with manual edits already applied.
type Item struct {
	ID        int64    `json:"id"`
	LibraryID int64    `json:"libraryId"`
	ParentID  int64    `json:"parentId,omitempty"`
	Kind      ItemKind `json:"kind"`
	Title     string   `json:"title"`
	SortTitle string   `json:"sortTitle,omitempty"`
	Year      int      `json:"year,omitempty"`
	Summary   string   `json:"summary,omitempty"`
	Genres    []string `json:"genres,omitempty"`
	// ExternalIDs maps a provider ("tmdb", "imdb", "tvdb", "jellyfin") to its id.
	ExternalIDs   map[string]string `json:"externalIds,omitempty"`
	SeasonNumber  int               `json:"seasonNumber,omitempty"`
	EpisodeNumber int               `json:"episodeNumber,omitempty"`
	TrackNumber   int               `json:"trackNumber,omitempty"`
	DurationMs    int64             `json:"durationMs,omitempty"`
	// Path is the media file (local sources only). The control plane should
	// show it to admins only.
	Path       string     `json:"path,omitempty"`
	Size       int64      `json:"size,omitempty"`
	Media      *MediaInfo `json:"media,omitempty"`
	ProbeError string     `json:"probeError,omitempty"`
	// PosterPath is a local JPEG to serve for this item, or empty.
	PosterPath string `json:"-"`
	HasPoster  bool   `json:"hasPoster"`
	// SourceID is the item's id in its remote source (e.g. Jellyfin).
	SourceID string `json:"sourceId,omitempty"`
	Played   bool   `json:"played,omitempty"`
	// Edited names the fields overridden by manual edits.
	Edited    []string  `json:"edited,omitempty"`
	AddedAt   time.Time `json:"addedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Query selects items. The zero Query lists top-level items of every library.
type Query struct {
	// LibraryIDs limits the result to these libraries; nil means all. The
	// control plane passes the libraries the caller may see.
	LibraryIDs []int64
	// ParentID lists the children of one item; 0 lists top-level items
	// (movies, shows, artists) unless Kinds or Search is set.
	ParentID int64
	// Kinds limits the result to these kinds (searches across levels).
	Kinds []ItemKind
	// Search matches titles case-insensitively (substring).
	Search string
	// Limit defaults to 100, at most 1000.
	Limit, Offset int
}

const itemCols = `i.id, i.library_id, coalesce(i.parent_id, 0), i.kind,
	coalesce(e.title, i.title), coalesce(e.sort_title, i.sort_title), coalesce(e.year, i.year),
	coalesce(e.summary, i.summary), coalesce(e.genres, i.genres), i.external_ids,
	i.season_number, i.episode_number, i.track_number, i.duration_ms, i.path, i.size,
	i.media_info, i.probe_error, i.poster_path, i.source_id, i.played, i.added_at, i.updated_at,
	e.title IS NOT NULL, e.sort_title IS NOT NULL, e.year IS NOT NULL, e.summary IS NOT NULL, e.genres IS NOT NULL`

const itemFrom = ` FROM library_items i LEFT JOIN item_edits e ON e.item_id = i.id`

func scanItem(row interface{ Scan(...any) error }) (Item, error) {
	var it Item
	var genres, ids, media string
	var added, updated int64
	var edited [5]bool
	err := row.Scan(&it.ID, &it.LibraryID, &it.ParentID, &it.Kind, &it.Title, &it.SortTitle, &it.Year,
		&it.Summary, &genres, &ids, &it.SeasonNumber, &it.EpisodeNumber, &it.TrackNumber, &it.DurationMs,
		&it.Path, &it.Size, &media, &it.ProbeError, &it.PosterPath, &it.SourceID, &it.Played, &added, &updated,
		&edited[0], &edited[1], &edited[2], &edited[3], &edited[4])
	if err != nil {
		return Item{}, err
	}
	// Rows saved before the limits existed are cut on the way out.
	it.Title, _ = Truncate(it.Title, MaxTitleBytes)
	it.SortTitle, _ = Truncate(it.SortTitle, MaxTitleBytes)
	it.Summary, _ = Truncate(it.Summary, MaxSummaryBytes)
	_ = json.Unmarshal([]byte(genres), &it.Genres)
	_ = json.Unmarshal([]byte(ids), &it.ExternalIDs)
	if media != "" && media != "{}" {
		var mi MediaInfo
		if json.Unmarshal([]byte(media), &mi) == nil {
			it.Media = &mi
		}
	}
	for i, name := range []string{"title", "sortTitle", "year", "summary", "genres"} {
		if edited[i] {
			it.Edited = append(it.Edited, name)
		}
	}
	it.HasPoster = it.PosterPath != ""
	it.AddedAt, it.UpdatedAt = time.UnixMilli(added), time.UnixMilli(updated)
	return it, nil
}

// Item returns one item by id, with edits applied.
func (s *Service) Item(ctx context.Context, id int64) (Item, error) {
	it, err := scanItem(s.db.QueryRowContext(ctx, `SELECT `+itemCols+itemFrom+` WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, fmt.Errorf("%w: item %d", ErrNotFound, id)
	}
	if err != nil {
		return Item{}, fmt.Errorf("library: item %d: %w", id, err)
	}
	return it, nil
}

// Items lists items matching q, ordered for display: episodes by season and
// number, tracks by number, everything else by sort title.
func (s *Service) Items(ctx context.Context, q Query) ([]Item, error) {
	var where []string
	var args []any
	if q.LibraryIDs != nil {
		if len(q.LibraryIDs) == 0 {
			return nil, nil
		}
		where = append(where, "i.library_id IN ("+placeholders(len(q.LibraryIDs))+")")
		for _, id := range q.LibraryIDs {
			args = append(args, id)
		}
	}
	switch {
	case q.ParentID != 0:
		where = append(where, "i.parent_id = ?")
		args = append(args, q.ParentID)
	case len(q.Kinds) == 0 && q.Search == "":
		where = append(where, "i.parent_id IS NULL")
	}
	if len(q.Kinds) > 0 {
		where = append(where, "i.kind IN ("+placeholders(len(q.Kinds))+")")
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	if q.Search != "" {
		where = append(where, "lower(coalesce(e.title, i.title)) LIKE ? ESCAPE '\\'")
		args = append(args, "%"+escapeLike(strings.ToLower(q.Search))+"%")
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = min(max(q.Limit, 100), 1000)
	}
	query := `SELECT ` + itemCols + itemFrom
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += ` ORDER BY i.season_number, i.episode_number, i.track_number,
		lower(coalesce(nullif(coalesce(e.sort_title, i.sort_title), ''), coalesce(e.title, i.title))), i.id LIMIT ? OFFSET ?`
	args = append(args, q.Limit, max(q.Offset, 0))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("library: items: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("library: items: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Edit is a manual metadata change; nil fields are left as they are.
type Edit struct {
	Title     *string   `json:"title,omitempty"`
	SortTitle *string   `json:"sortTitle,omitempty"`
	Year      *int      `json:"year,omitempty"`
	Summary   *string   `json:"summary,omitempty"`
	Genres    *[]string `json:"genres,omitempty"`
}

// EditItem stores manual edits for an item. Edits are kept apart from
// scanned metadata, so rescans and provider lookups never overwrite them.
func (s *Service) EditItem(ctx context.Context, id int64, e Edit) (Item, error) {
	if e.Title != nil && strings.TrimSpace(*e.Title) == "" {
		return Item{}, fmt.Errorf("%w: empty title", ErrInvalid)
	}
	if e.Year != nil && (*e.Year < 0 || *e.Year > 9999) {
		return Item{}, fmt.Errorf("%w: year %d", ErrInvalid, *e.Year)
	}
	if err := checkEdit(e); err != nil {
		return Item{}, err
	}
	if _, err := s.Item(ctx, id); err != nil {
		return Item{}, err
	}
	var genres *string
	if e.Genres != nil {
		b, _ := json.Marshal(*e.Genres)
		g := string(b)
		genres = &g
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO item_edits (item_id, title, sort_title, year, summary, genres, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (item_id) DO UPDATE SET
			title = coalesce(excluded.title, title), sort_title = coalesce(excluded.sort_title, sort_title),
			year = coalesce(excluded.year, year), summary = coalesce(excluded.summary, summary),
			genres = coalesce(excluded.genres, genres), updated_at = excluded.updated_at`,
		id, e.Title, e.SortTitle, e.Year, e.Summary, genres, s.now().UnixMilli())
	if err != nil {
		return Item{}, fmt.Errorf("library: edit %d: %w", id, err)
	}
	return s.Item(ctx, id)
}

// ResetEdits drops every manual edit of an item, restoring scanned metadata.
func (s *Service) ResetEdits(ctx context.Context, id int64) (Item, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM item_edits WHERE item_id = ?`, id); err != nil {
		return Item{}, fmt.Errorf("library: reset edits %d: %w", id, err)
	}
	return s.Item(ctx, id)
}

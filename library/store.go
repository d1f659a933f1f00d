package library

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
)

// itemRow holds the scanned (base) columns of an item.
type itemRow struct {
	libraryID   int64
	parentID    int64
	kind        ItemKind
	key         string
	title       string
	sortTitle   string
	year        int
	summary     string
	genres      []string
	externalIDs map[string]string
	season      int
	episode     int
	track       int
	durationMs  int64
	path        string
	size        int64
	mtimeNs     int64
	media       *MediaInfo
	probeError  string
	posterPath  string
	sourceID    string
	played      bool
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// upsertItem inserts or refreshes the base columns of an item keyed by
// (library, key) and returns its id. Manual edits live in item_edits and
// are untouched. An empty posterPath keeps the current poster.
func upsertItem(ctx context.Context, db execer, r itemRow, nowMs int64) (int64, error) {
	r.clamp() // the scan notes what it cut; imports and containers are cut silently
	genres, _ := json.Marshal(nonNil(r.genres))
	ids, _ := json.Marshal(nonNilMap(r.externalIDs))
	media := []byte("{}")
	if r.media != nil {
		media, _ = json.Marshal(r.media)
	}
	var parent any
	if r.parentID != 0 {
		parent = r.parentID
	}
	var id int64
	err := db.QueryRowContext(ctx, `INSERT INTO library_items (library_id, parent_id, kind, key, title, sort_title, year,
			summary, genres, external_ids, season_number, episode_number, track_number, duration_ms, path, size,
			mtime_ns, media_info, probe_error, poster_path, source_id, played, added_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (library_id, key) DO UPDATE SET
			parent_id = excluded.parent_id, kind = excluded.kind, title = excluded.title,
			sort_title = excluded.sort_title, year = excluded.year, summary = excluded.summary,
			genres = excluded.genres, external_ids = excluded.external_ids,
			season_number = excluded.season_number, episode_number = excluded.episode_number,
			track_number = excluded.track_number, duration_ms = excluded.duration_ms, path = excluded.path,
			size = excluded.size, mtime_ns = excluded.mtime_ns, media_info = excluded.media_info,
			probe_error = excluded.probe_error,
			poster_path = CASE WHEN excluded.poster_path = '' THEN poster_path ELSE excluded.poster_path END,
			source_id = excluded.source_id, played = excluded.played, updated_at = excluded.updated_at
		RETURNING id`,
		r.libraryID, parent, r.kind, r.key, r.title, r.sortTitle, r.year, r.summary, string(genres), string(ids),
		r.season, r.episode, r.track, r.durationMs, r.path, r.size, r.mtimeNs, string(media), r.probeError,
		r.posterPath, r.sourceID, r.played, nowMs, nowMs).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("library: save %s %q: %w", r.kind, r.key, err)
	}
	return id, nil
}

func setPoster(ctx context.Context, db execer, id int64, path string) error {
	_, err := db.ExecContext(ctx, `UPDATE library_items SET poster_path = ? WHERE id = ?`, path, id)
	return err
}

// deleteItems removes items and their edits and cached posters.
func (s *Service) deleteItems(ctx context.Context, db execer, ids []int64) error {
	for _, id := range ids {
		if _, err := db.ExecContext(ctx, `DELETE FROM item_edits WHERE item_id = ?`, id); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM library_items WHERE id = ?`, id); err != nil {
			return err
		}
		cached := s.cachedPosterPath(id)
		if _, err := db.ExecContext(ctx, `UPDATE library_items SET poster_path = '' WHERE poster_path = ?`, cached); err != nil {
			return err
		}
		_ = os.Remove(cached)
	}
	return nil
}

// pruneContainers deletes shows, seasons, artists and albums left without
// children, deepest first, and returns how many went.
func (s *Service) pruneContainers(ctx context.Context, db execer, libraryID int64) (int, error) {
	total := 0
	for range 3 { // season → show, album → artist
		rows, err := db.QueryContext(ctx, `SELECT id FROM library_items c WHERE c.library_id = ?
			AND c.kind IN ('show', 'season', 'artist', 'album')
			AND NOT EXISTS (SELECT 1 FROM library_items k WHERE k.parent_id = c.id)`, libraryID)
		if err != nil {
			return total, err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return total, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			break
		}
		if err := s.deleteItems(ctx, db, ids); err != nil {
			return total, err
		}
		total += len(ids)
	}
	return total, nil
}

// inheritPosters gives containers without a picture the first one found
// among their children (album ← track cover art, show ← season...), then
// gives tracks without a picture their album's, so that a track's poster
// is its album cover for those who may not browse the album (party guests).
func inheritPosters(ctx context.Context, db execer, libraryID int64) error {
	for range 2 {
		_, err := db.ExecContext(ctx, `UPDATE library_items SET poster_path = coalesce((SELECT k.poster_path
				FROM library_items k WHERE k.parent_id = library_items.id AND k.poster_path != ''
				ORDER BY k.season_number = 0, k.season_number, k.episode_number, k.track_number, k.id LIMIT 1), '')
			WHERE library_id = ? AND poster_path = '' AND kind IN ('show', 'season', 'artist', 'album')`, libraryID)
		if err != nil {
			return fmt.Errorf("library: inherit posters: %w", err)
		}
	}
	_, err := db.ExecContext(ctx, `UPDATE library_items SET poster_path = coalesce((SELECT a.poster_path
			FROM library_items a WHERE a.id = library_items.parent_id AND a.kind = 'album'), '')
		WHERE library_id = ? AND poster_path = '' AND kind = 'track'`, libraryID)
	if err != nil {
		return fmt.Errorf("library: inherit album posters: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

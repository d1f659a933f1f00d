package library

import (
	"context"
	"fmt"
	"time"
)

// MostViewed lists the films and episodes the most users watched (saved
// progress in) since a time, most first, at most n. The CDN planner's
// balancing asks shared nodes to hold them (PeerTube's most-views
// strategy).
func (s *Service) MostViewed(ctx context.Context, since time.Time, n int) ([]int64, error) {
	return s.ids(ctx, `SELECT p.item_id FROM watch_progress p JOIN library_items i ON i.id = p.item_id
		WHERE p.updated_at >= ? AND i.kind IN ('movie', 'episode')
		GROUP BY p.item_id ORDER BY COUNT(*) DESC, MAX(p.updated_at) DESC LIMIT ?`, since.UnixMilli(), n)
}

// RecentlyAdded lists the films and episodes added last, newest first, at
// most n (PeerTube's recently-added strategy).
func (s *Service) RecentlyAdded(ctx context.Context, n int) ([]int64, error) {
	return s.ids(ctx, `SELECT id FROM library_items WHERE kind IN ('movie', 'episode')
		ORDER BY added_at DESC, id DESC LIMIT ?`, n)
}

func (s *Service) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("library: popularity: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

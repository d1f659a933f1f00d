package library

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// FinishedFraction is how far into an item a viewer must be for it to
// count as watched: past it, the item leaves "Continue watching" and the
// next play starts from the beginning (end credits are rarely watched).
const FinishedFraction = 0.95

// WatchProgress is where one user stopped in one item (watch_progress).
type WatchProgress struct {
	ItemID     int64 `json:"itemId"`
	PositionMs int64 `json:"positionMs"`
	DurationMs int64 `json:"durationMs"`
	// Finished is set once the position passed FinishedFraction.
	Finished  bool      `json:"finished"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Fraction is the watched share of the item, in [0, 1].
func (p WatchProgress) Fraction() float64 {
	if p.DurationMs <= 0 {
		return 0
	}
	return min(1, max(0, float64(p.PositionMs)/float64(p.DurationMs)))
}

// InProgress is an item a user started and has not finished, for the
// "Continue watching" row.
type InProgress struct {
	Item     Item          `json:"item"`
	Progress WatchProgress `json:"progress"`
}

// ValidateProgress checks a position reported by a player: finite, not
// negative, within a positive duration (a little overshoot at the very end
// is clamped, as players report the last frame's end).
func ValidateProgress(positionMs, durationMs float64) (pos, dur int64, err error) {
	switch {
	case math.IsNaN(positionMs) || math.IsInf(positionMs, 0) || positionMs < 0:
		return 0, 0, fmt.Errorf("%w: position_ms must be a number of milliseconds ≥ 0", ErrInvalid)
	case math.IsNaN(durationMs) || math.IsInf(durationMs, 0) || durationMs <= 0 || durationMs > float64(1<<50):
		return 0, 0, fmt.Errorf("%w: duration_ms must be a positive number of milliseconds", ErrInvalid)
	case positionMs > durationMs+5000:
		return 0, 0, fmt.Errorf("%w: position_ms %.0f is past duration_ms %.0f", ErrInvalid, positionMs, durationMs)
	}
	return int64(min(positionMs, durationMs)), int64(durationMs), nil
}

// SaveProgress records where userID stopped in item itemID (the caller has
// checked access). Positions come from ValidateProgress.
func (s *Service) SaveProgress(ctx context.Context, userID, itemID, positionMs, durationMs int64) (WatchProgress, error) {
	if positionMs < 0 || durationMs <= 0 || positionMs > durationMs {
		return WatchProgress{}, fmt.Errorf("%w: position %d of %d ms", ErrInvalid, positionMs, durationMs)
	}
	p := WatchProgress{ItemID: itemID, PositionMs: positionMs, DurationMs: durationMs, UpdatedAt: s.now()}
	p.Finished = p.Fraction() >= FinishedFraction
	_, err := s.db.ExecContext(ctx, `INSERT INTO watch_progress(user_id, item_id, position_ms, duration_ms, finished, updated_at)
		VALUES(?, ?, ?, ?, ?, ?)
		ON CONFLICT(user_id, item_id) DO UPDATE SET position_ms = excluded.position_ms,
		duration_ms = excluded.duration_ms, finished = excluded.finished, updated_at = excluded.updated_at`,
		userID, itemID, positionMs, durationMs, p.Finished, p.UpdatedAt.UnixMilli())
	if err != nil {
		return WatchProgress{}, fmt.Errorf("library: save progress of item %d: %w", itemID, err)
	}
	return p, nil
}

// WatchProgress returns where userID stopped in itemID; ErrNotFound if they
// never played it.
func (s *Service) WatchProgress(ctx context.Context, userID, itemID int64) (WatchProgress, error) {
	p := WatchProgress{ItemID: itemID}
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT position_ms, duration_ms, finished, updated_at FROM watch_progress
		WHERE user_id = ? AND item_id = ?`, userID, itemID).Scan(&p.PositionMs, &p.DurationMs, &p.Finished, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("%w: no progress on item %d", ErrNotFound, itemID)
	}
	if err != nil {
		return p, fmt.Errorf("library: progress of item %d: %w", itemID, err)
	}
	p.UpdatedAt = time.UnixMilli(updated)
	return p, nil
}

// ContinueWatching lists the items userID started and has not finished,
// most recently watched first, limited to the libraries in libraryIDs (the
// ones the user may still see).
func (s *Service) ContinueWatching(ctx context.Context, userID int64, libraryIDs []int64, limit int) ([]InProgress, error) {
	out := []InProgress{}
	if len(libraryIDs) == 0 {
		return out, nil
	}
	limit = min(max(limit, 1), 100)
	args := []any{userID}
	for _, id := range libraryIDs {
		args = append(args, id)
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT p.item_id, p.position_ms, p.duration_ms, p.updated_at FROM watch_progress p
		JOIN library_items i ON i.id = p.item_id
		WHERE p.user_id = ? AND p.finished = 0 AND p.position_ms > 0 AND i.library_id IN (`+placeholders(len(libraryIDs))+`)
		ORDER BY p.updated_at DESC, p.item_id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("library: continue watching: %w", err)
	}
	var ps []WatchProgress
	for rows.Next() {
		var p WatchProgress
		var updated int64
		if err := rows.Scan(&p.ItemID, &p.PositionMs, &p.DurationMs, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("library: continue watching: %w", err)
		}
		p.UpdatedAt = time.UnixMilli(updated)
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("library: continue watching: %w", err)
	}
	for _, p := range ps {
		it, err := s.Item(ctx, p.ItemID)
		if err != nil {
			return nil, err
		}
		out = append(out, InProgress{Item: it, Progress: p})
	}
	return out, nil
}

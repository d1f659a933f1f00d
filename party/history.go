package party

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// resumeAt is where a user's next play of the item starts: the saved
// position, unless the item was (nearly) finished.
func (h HistoryEntry) resumeAt() float64 {
	if h.DurationSeconds > 0 && h.PositionSeconds > h.DurationSeconds-30 {
		return 0
	}
	return h.PositionSeconds
}

// recordProgress saves every active member's resume point for an entry;
// finished bumps their play counts and rewinds the resume point.
func (s *Service) recordProgress(ctx context.Context, p Party, entryID int64, pos, dur float64, finished bool) {
	e, err := s.Entry(ctx, p.ID, entryID)
	if err != nil {
		return
	}
	plays := 0
	if finished {
		plays, pos = 1, 0
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO play_history(user_id, media_type, source_id, title, position_seconds,
		duration_seconds, play_count, last_played_at)
		SELECT user_id, ?, ?, ?, ?, ?, ?, ? FROM party_members WHERE party_id = ? AND left_at IS NULL
		ON CONFLICT(user_id, media_type, source_id) DO UPDATE SET title = excluded.title,
		position_seconds = excluded.position_seconds, duration_seconds = excluded.duration_seconds,
		play_count = play_count + excluded.play_count, last_played_at = excluded.last_played_at`,
		e.MediaType, e.SourceID, e.Title, pos, dur, plays, s.nowMs(), p.ID)
	if err != nil {
		s.log.Warn("history not saved", "party", p.ID, "err", err)
	}
}

// History lists a user's items, most recently played first.
func (s *Service) History(ctx context.Context, userID int64) ([]HistoryEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT user_id, media_type, source_id, title, position_seconds, duration_seconds,
		play_count, last_played_at FROM play_history WHERE user_id = ? ORDER BY last_played_at DESC LIMIT 500`, userID)
	if err != nil {
		return nil, fmt.Errorf("party: history: %w", err)
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var h HistoryEntry
		if err := rows.Scan(&h.UserID, &h.MediaType, &h.SourceID, &h.Title, &h.PositionSeconds, &h.DurationSeconds,
			&h.PlayCount, &h.LastPlayedAtMs); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *Service) historyEntry(ctx context.Context, userID int64, mediaType, sourceID string) (HistoryEntry, error) {
	h := HistoryEntry{UserID: userID, MediaType: mediaType, SourceID: sourceID}
	err := s.db.QueryRowContext(ctx, `SELECT title, position_seconds, duration_seconds, play_count, last_played_at
		FROM play_history WHERE user_id = ? AND media_type = ? AND source_id = ?`, userID, mediaType, sourceID).
		Scan(&h.Title, &h.PositionSeconds, &h.DurationSeconds, &h.PlayCount, &h.LastPlayedAtMs)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrNotFound
	}
	return h, err
}

package party

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// stopPositionTimeout bounds the question Stop asks the worker.
const stopPositionTimeout = 2 * time.Second

// keepStopPosition asks the worker where the session's entry is, just
// before Stop ends it, and saves that as the resume point: heartbeats are
// seconds apart, so their last position may lie well before the stop.
// Failures leave the last heartbeat's position. The caller holds the lock.
func (s *Service) keepStopPosition(ctx context.Context, partyID int64, sessionID string) {
	ctx, cancel := context.WithTimeout(ctx, stopPositionTimeout)
	defer cancel()
	st, err := s.worker.Session(ctx, sessionID)
	if err != nil || st.PlaybackState == "stopped" {
		return
	}
	entryID, err := strconv.ParseInt(st.QueueEntryID, 10, 64)
	if err != nil {
		return
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE worker_state SET position_seconds = ?, updated_at = ?
		WHERE party_id = ? AND queue_entry_id = ?`, st.PositionSeconds, s.nowMs(), partyID, entryID); err != nil {
		s.log.Debug("keep stop position", "party", partyID, "err", fmt.Errorf("party: %w", err))
	}
}

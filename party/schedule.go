package party

import (
	"context"
	"fmt"
	"time"
)

// MaxScheduleAhead is how far ahead a party may be scheduled.
const MaxScheduleAhead = 30 * 24 * time.Hour

// CheckStart validates a scheduled start against now: it must lie in the
// future and at most MaxScheduleAhead away.
func CheckStart(now, start time.Time) error {
	if !start.After(now) {
		return fmt.Errorf("%w: startsAtMs must be in the future (send null to clear the schedule)", ErrInvalid)
	}
	if start.Sub(now) > MaxScheduleAhead {
		return fmt.Errorf("%w: startsAtMs must be within %d days from now", ErrInvalid, int(MaxScheduleAhead/(24*time.Hour)))
	}
	return nil
}

// SetSchedule sets the party's scheduled start, or clears it when start is
// nil. A start must pass CheckStart.
func (s *Service) SetSchedule(ctx context.Context, id int64, start *time.Time) (Party, error) {
	var ms *int64
	if start != nil {
		if err := CheckStart(s.now(), *start); err != nil {
			return Party{}, err
		}
		v := start.UnixMilli()
		ms = &v
	}
	p, err := scanParty(s.db.QueryRowContext(ctx, `UPDATE parties SET starts_at = ?, updated_at = ?
		WHERE id = ? RETURNING `+partyCols, ms, s.nowMs(), id))
	if err != nil {
		return Party{}, fmt.Errorf("party: schedule: %w", err)
	}
	s.event(ctx, id, "party.scheduled", map[string]any{"startsAtMs": ms})
	return p, nil
}

// Scheduled lists the parties whose scheduled start lies in [from, to),
// soonest first; the CDN planner warms their first item before it.
func (s *Service) Scheduled(ctx context.Context, from, to time.Time) ([]Party, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+partyCols+` FROM parties
		WHERE starts_at >= ? AND starts_at < ? ORDER BY starts_at`, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("party: scheduled: %w", err)
	}
	defer rows.Close()
	var out []Party
	for rows.Next() {
		p, err := scanParty(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

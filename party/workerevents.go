package party

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// Worker event types (the worker API's callback contract).
const (
	WorkerHeartbeat = workerapi.EventHeartbeat
	WorkerStarted   = workerapi.EventStarted
	WorkerPaused    = workerapi.EventPaused
	WorkerResumed   = workerapi.EventResumed
	WorkerEnded     = workerapi.EventEnded
	WorkerFailed    = workerapi.EventFailed
)

// HandleWorkerEvent applies an event the worker POSTed to the callback:
// heartbeats refresh the worker state and users' resume points, started,
// paused and resumed move the status, ended and failed advance the queue.
// Events of a session the party no longer uses, or of an entry that is no
// longer current, are acknowledged and ignored.
func (s *Service) HandleWorkerEvent(ctx context.Context, ev WorkerEvent) error {
	switch ev.Type {
	case WorkerHeartbeat, WorkerStarted, WorkerPaused, WorkerResumed, WorkerEnded, WorkerFailed:
	default:
		return fmt.Errorf("%w: unknown worker event type %q", ErrInvalid, ev.Type)
	}
	if ev.SessionID == "" {
		return fmt.Errorf("%w: sessionId is required", ErrInvalid)
	}
	var partyID int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM parties WHERE worker_session_id = ?`, ev.SessionID).Scan(&partyID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("worker session %q: %w", ev.SessionID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("party: worker event: %w", err)
	}
	s.metrics.workerEvents.WithLabelValues(ev.Type).Inc()
	unlock := s.lock(partyID)
	defer unlock()
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return err
	}
	if p.WorkerSessionID != ev.SessionID {
		return nil // superseded while we waited for the lock
	}
	ws, err := s.WorkerState(ctx, partyID)
	if err != nil {
		return err
	}
	current := p.CurrentEntryID != nil && ev.QueueEntryID == strconv.FormatInt(*p.CurrentEntryID, 10)
	if ws.Status == WorkerLost {
		s.event(ctx, partyID, "worker.back", map[string]any{"workerSessionId": ev.SessionID})
	}
	ws.Status, ws.LastHeartbeatMs = WorkerActive, s.nowMs()
	// An event sent before our last play or seek carries an old position.
	fresh := current && !s.stale(partyID, ev.AtMs)
	if fresh {
		ws.PositionSeconds, ws.PlaybackState = ev.PositionSeconds, ev.PlaybackState
	}
	if ev.Error != "" {
		ws.LastError = ev.Error
	}
	if err := s.saveWorkerState(ctx, s.db, ws); err != nil {
		return err
	}
	if !current && ev.Type != WorkerHeartbeat {
		return nil
	}
	return s.applyWorkerEvent(ctx, &p, ws, ev, fresh)
}

// applyWorkerEvent moves the party on an event of its current session.
func (s *Service) applyWorkerEvent(ctx context.Context, p *Party, ws WorkerState, ev WorkerEvent, fresh bool) error {
	partyID := p.ID
	switch ev.Type {
	case WorkerHeartbeat:
		if fresh && ev.PlaybackState == "playing" && p.Status == StatusConnecting {
			_ = s.setStatus(ctx, s.db, p, EvStarted)
		}
		if fresh {
			s.recordProgress(ctx, *p, *p.CurrentEntryID, ev.PositionSeconds, ws.DurationSeconds, false)
		}
		// Ephemeral: position updates go to live subscribers, not the log.
		s.broker.publish(PartyEvent{PartyID: partyID, Type: "worker.heartbeat", CreatedAtMs: s.nowMs(),
			Payload: map[string]any{"positionSeconds": ev.PositionSeconds, "playbackState": ev.PlaybackState,
				"queueEntryId": ev.QueueEntryID}})
		return nil
	case WorkerStarted, WorkerResumed:
		if err := s.setStatus(ctx, s.db, p, EvStarted); err != nil {
			s.log.Debug("worker event ignored", "party", partyID, "type", ev.Type, "err", err)
		}
	case WorkerPaused:
		if err := s.setStatus(ctx, s.db, p, EvPaused); err != nil {
			s.log.Debug("worker event ignored", "party", partyID, "type", ev.Type, "err", err)
		}
	case WorkerEnded, WorkerFailed:
		done := EntryPlayed
		if ev.Type == WorkerFailed {
			done = EntryFailed
		} else {
			s.recordProgress(ctx, *p, *p.CurrentEntryID, ev.PositionSeconds, ws.DurationSeconds, true)
		}
		s.event(ctx, partyID, "worker."+ev.Type, map[string]any{"entryId": *p.CurrentEntryID,
			"positionSeconds": ev.PositionSeconds, "error": ev.Error})
		if err := s.advance(ctx, p, done); err != nil && !errors.Is(err, ErrWorker) {
			return err
		}
		return nil
	}
	s.event(ctx, partyID, "worker."+ev.Type, map[string]any{"entryId": *p.CurrentEntryID,
		"positionSeconds": ev.PositionSeconds})
	return nil
}

// checkWorkers finds active parties whose worker went silent and recovers them.
func (s *Service) checkWorkers(ctx context.Context) {
	now := s.now()
	if now.Sub(s.started) < s.lostAft {
		return // after our own restart, give workers a chance to call back
	}
	cutoff := now.Add(-s.lostAft).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT p.id FROM parties p JOIN worker_state w ON w.party_id = p.id
		WHERE p.status IN ('connecting', 'playing', 'paused') AND w.status IN ('starting', 'active', 'lost')
		AND w.last_heartbeat_at < ?`, cutoff)
	if err != nil {
		s.log.Warn("worker watchdog query", "err", err)
		return
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		wait := now.Before(s.retryAt[id])
		s.mu.Unlock()
		if !wait {
			s.recover(ctx, id, cutoff)
		}
	}
}

// recover re-creates a lost worker session and replays the current entry
// at the last position the worker reported, paused again if it was paused.
func (s *Service) recover(ctx context.Context, partyID, cutoff int64) {
	unlock := s.lock(partyID)
	defer unlock()
	p, err := s.Get(ctx, partyID)
	if err != nil || !p.Status.Active() || p.CurrentEntryID == nil {
		return
	}
	ws, err := s.WorkerState(ctx, partyID)
	if err != nil || ws.LastHeartbeatMs >= cutoff {
		return
	}
	log := s.log.With("party", partyID)
	if ws.Status != WorkerLost {
		ws.Status = WorkerLost
		if err := s.saveWorkerState(ctx, s.db, ws); err != nil {
			return
		}
		s.metrics.workersLost.Inc()
		silent := time.Duration(s.nowMs()-ws.LastHeartbeatMs) * time.Millisecond
		log.Warn("ingest worker lost", "workerSession", p.WorkerSessionID, "silentFor", silent)
		s.event(ctx, partyID, "worker.lost", map[string]any{"workerSessionId": p.WorkerSessionID,
			"positionSeconds": ws.PositionSeconds})
		// The worker may be alive with only its callbacks failing.
		if ses, err := s.worker.Session(ctx, p.WorkerSessionID); err == nil &&
			ses.QueueEntryID == strconv.FormatInt(*p.CurrentEntryID, 10) && ses.WorkerStatus != workerapi.StatusFailed && ses.WorkerStatus != workerapi.StatusClosed {
			ws.Status, ws.LastHeartbeatMs, ws.PositionSeconds = WorkerActive, s.nowMs(), ses.PositionSeconds
			ws.PlaybackState = ses.PlaybackState
			_ = s.saveWorkerState(ctx, s.db, ws)
			if ses.PlaybackState == "playing" && p.Status == StatusConnecting {
				_ = s.setStatus(ctx, s.db, &p, EvStarted)
			}
			log.Warn("ingest worker is alive but its events do not reach us; check worker.callback_url",
				"callbackUrl", s.callback)
			return
		}
	}
	wasPaused := p.Status == StatusPaused
	e, err := s.Entry(ctx, partyID, *p.CurrentEntryID)
	if err != nil {
		return
	}
	pos := ws.PositionSeconds
	if err := s.startEntry(ctx, &p, e, pos); err != nil {
		// startEntry put the party in error; stay lost so the next tick retries.
		_, _ = s.db.ExecContext(ctx, `UPDATE worker_state SET status = 'lost' WHERE party_id = ?`, partyID)
		if errors.Is(err, ErrWorker) {
			_, _ = s.db.ExecContext(ctx, `UPDATE parties SET status = 'connecting' WHERE id = ?`, partyID)
		}
		s.mu.Lock()
		s.retryAt[partyID] = s.now().Add(s.lostAft)
		s.mu.Unlock()
		log.Warn("ingest recovery failed; will retry", "in", s.lostAft, "err", err)
		return
	}
	if wasPaused {
		if err := s.worker.Control(ctx, p.WorkerSessionID, ControlRequest{Action: "pause"}); err == nil {
			_ = s.setStatus(ctx, s.db, &p, EvPaused)
		}
	}
	s.mu.Lock()
	delete(s.retryAt, partyID)
	s.mu.Unlock()
	_, _ = s.db.ExecContext(ctx, `UPDATE worker_state SET recoveries = recoveries + 1 WHERE party_id = ?`, partyID)
	s.metrics.recoveries.Inc()
	log.Info("ingest recovered", "workerSession", p.WorkerSessionID, "positionSeconds", pos)
	s.event(ctx, partyID, "worker.recovered", map[string]any{"workerSessionId": p.WorkerSessionID,
		"entryId": e.ID, "positionSeconds": pos})
}

package party

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// PlayOptions selects what Play starts.
type PlayOptions struct {
	// EntryID is the entry to play; 0 continues the current entry at its
	// last position, or starts the first waiting one.
	EntryID int64 `json:"entryId"`
	// StartSeconds overrides the start position.
	StartSeconds *float64 `json:"startSeconds"`
	// ResumeUserID, when set and StartSeconds is nil, starts from that
	// user's resume position for the item.
	ResumeUserID int64 `json:"-"`
}

// Play starts (or restarts) playback of an entry on the ingest worker.
func (s *Service) Play(ctx context.Context, partyID int64, o PlayOptions) (Party, error) {
	unlock := s.lock(partyID)
	defer unlock()
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return p, err
	}
	if _, err := Next(p.Status, EvPlay); err != nil {
		if p.Status == StatusDraft {
			return p, ErrNothingToPlay
		}
		return p, err
	}
	ws, err := s.WorkerState(ctx, partyID)
	if err != nil {
		return p, err
	}
	var e Entry
	start := 0.0
	switch {
	case o.EntryID != 0:
		if e, err = s.Entry(ctx, partyID, o.EntryID); err != nil {
			return p, err
		}
	case p.CurrentEntryID != nil:
		e, err = s.Entry(ctx, partyID, *p.CurrentEntryID)
		if err == nil && (e.Status == EntryPlaying || e.Status == EntryQueued) {
			if ws.QueueEntryID != nil && *ws.QueueEntryID == e.ID {
				start = ws.PositionSeconds
			}
			break
		}
		fallthrough
	default:
		if e, err = s.nextQueued(ctx, s.db, partyID, 0); err != nil {
			return p, err
		}
	}
	if p.CurrentEntryID != nil && *p.CurrentEntryID != e.ID {
		if cur, err := s.Entry(ctx, partyID, *p.CurrentEntryID); err == nil && cur.Status == EntryPlaying {
			_ = s.setEntryStatus(ctx, s.db, cur.ID, EntrySkipped)
		}
	}
	switch {
	case o.StartSeconds != nil:
		start = max(0, *o.StartSeconds)
	case o.ResumeUserID != 0:
		if h, err := s.historyEntry(ctx, o.ResumeUserID, string(e.MediaType), e.SourceID); err == nil {
			start = h.resumeAt()
		}
	}
	err = s.startEntry(ctx, &p, e, start)
	return p, err
}

// startEntry resolves e and asks the worker to play it, creating a worker
// session first when the party has none. The caller holds the party lock.
func (s *Service) startEntry(ctx context.Context, p *Party, e Entry, start float64) error {
	if s.resolver == nil {
		return s.entryFailed(ctx, p, e, fmt.Errorf("%w: no library is configured", ErrResolve))
	}
	t, err := s.resolver.Resolve(ctx, e.MediaType, e.SourceID)
	if err != nil {
		return s.entryFailed(ctx, p, e, fmt.Errorf("%w: %w", ErrResolve, err))
	}
	t.Playback.StartSeconds = start
	ws, err := s.WorkerState(ctx, p.ID)
	if err != nil {
		return err
	}
	needSession := p.WorkerSessionID == "" || ws.Status == WorkerIdle || ws.Status == WorkerStopped || ws.Status == WorkerLost
	req := PlayRequest{QueueEntryID: strconv.FormatInt(e.ID, 10), Title: firstNonEmpty(t.Title, e.Title),
		MediaType: string(firstNonEmpty(t.MediaType, e.MediaType)), Playback: t.Playback}
	for attempt := 0; ; attempt++ {
		if needSession {
			if err := s.newWorkerSession(ctx, p, &ws); err != nil {
				return s.workerFailed(ctx, p, &ws, err)
			}
		}
		err = s.worker.Play(ctx, p.WorkerSessionID, req)
		var we *WorkerError
		if err != nil && attempt == 0 && !needSession && errors.As(err, &we) && we.Status == 404 {
			// The worker forgot the session (it restarted): make a new one.
			needSession = true
			continue
		}
		break
	}
	if err != nil {
		return s.workerFailed(ctx, p, &ws, err)
	}
	s.commanded(p.ID)
	entryID := e.ID
	ws.QueueEntryID = &entryID
	ws.PositionSeconds, ws.DurationSeconds = start, t.Playback.DurationSeconds
	ws.PlaybackState, ws.Status, ws.LastError = "loading", WorkerActive, ""
	ws.LastHeartbeatMs = s.nowMs() // the grace period restarts with each play
	if err := s.saveWorkerState(ctx, s.db, ws); err != nil {
		return err
	}
	if err := s.setEntryStatus(ctx, s.db, e.ID, EntryPlaying); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE parties SET current_entry_id = ?, updated_at = ? WHERE id = ?`,
		e.ID, s.nowMs(), p.ID); err != nil {
		return fmt.Errorf("party: set current entry: %w", err)
	}
	p.CurrentEntryID = &entryID
	if err := s.setStatus(ctx, s.db, p, EvPlay); err != nil {
		return err
	}
	s.metrics.plays.Inc()
	s.event(ctx, p.ID, "playback.requested", map[string]any{"entryId": e.ID, "title": req.Title, "startSeconds": start})
	return nil
}

func firstNonEmpty[T ~string](a, b T) T {
	if a != "" {
		return a
	}
	return b
}

func (s *Service) newWorkerSession(ctx context.Context, p *Party, ws *WorkerState) error {
	if p.WorkerSessionID != "" {
		s.dropSession(p.ID, p.WorkerSessionID) // the old session may still hold resources
	}
	s.createRoom(ctx, p.Room)
	sid := p.Room + "-" + randomHex(4)
	err := s.worker.CreateSession(ctx, CreateSessionRequest{SessionID: sid, Room: p.Room, GuildID: p.GuildID,
		VoiceChannelID: p.VoiceChannelID, TextChannelID: p.TextChannelID, CallbackURL: s.callback,
		HeartbeatMs: max(s.interval.Milliseconds(), workerapi.MinHeartbeatMs)})
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE parties SET worker_session_id = ?, updated_at = ? WHERE id = ?`,
		sid, s.nowMs(), p.ID); err != nil {
		return fmt.Errorf("party: save worker session: %w", err)
	}
	p.WorkerSessionID = sid
	ws.WorkerSessionID, ws.Status = sid, WorkerStarting
	s.event(ctx, p.ID, "worker.session", map[string]any{"workerSessionId": sid})
	return nil
}

// entryFailed marks an entry failed when it cannot be resolved and returns err.
func (s *Service) entryFailed(ctx context.Context, p *Party, e Entry, err error) error {
	_ = s.setEntryStatus(ctx, s.db, e.ID, EntryFailed)
	s.event(ctx, p.ID, "entry.failed", map[string]any{"entryId": e.ID, "error": err.Error()})
	return err
}

// workerFailed puts the party in error after the worker refused a command.
// People get the failure's headline (the returned error and the worker
// state's lastError); the details go to the server log and the party log.
func (s *Service) workerFailed(ctx context.Context, p *Party, ws *WorkerState, err error) error {
	f := ExplainWorker(err)
	s.log.Warn("worker command failed", "party", p.ID, "workerSession", p.WorkerSessionID, "err", f.Err)
	ws.LastError = f.Headline
	_ = s.saveWorkerState(ctx, s.db, *ws)
	if _, e := Next(p.Status, EvFail); e != nil {
		// queued or stopped: the failed attempt counts as connecting.
		_ = s.setStatus(ctx, s.db, p, EvPlay)
	}
	_ = s.setStatus(ctx, s.db, p, EvFail)
	s.metrics.workerErrors.Inc()
	s.event(ctx, p.ID, "worker.error", map[string]any{"error": f.Headline, "detail": f.Err.Error()})
	return f
}

// Pause holds playback at the current position.
func (s *Service) Pause(ctx context.Context, partyID int64) (Party, error) {
	return s.control(ctx, partyID, EvPaused, ControlRequest{Action: "pause"})
}

// Resume continues playback after a pause.
func (s *Service) Resume(ctx context.Context, partyID int64) (Party, error) {
	return s.control(ctx, partyID, EvStarted, ControlRequest{Action: "resume"})
}

// Seek moves playback of the current entry to positionSeconds.
func (s *Service) Seek(ctx context.Context, partyID int64, positionSeconds float64) (Party, error) {
	if positionSeconds < 0 {
		return Party{}, fmt.Errorf("%w: positionSeconds must be >= 0", ErrInvalid)
	}
	return s.control(ctx, partyID, "", ControlRequest{Action: "seek", PositionSeconds: &positionSeconds})
}

func (s *Service) control(ctx context.Context, partyID int64, ev Event, req ControlRequest) (Party, error) {
	unlock := s.lock(partyID)
	defer unlock()
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return p, err
	}
	if !p.Status.Active() || p.WorkerSessionID == "" {
		return p, fmt.Errorf("%w: cannot %s a party that is %s", ErrBadTransition, req.Action, p.Status)
	}
	if ev == EvStarted && p.Status != StatusPaused {
		return p, fmt.Errorf("%w: cannot resume a party that is %s", ErrBadTransition, p.Status)
	}
	if ev != "" {
		if _, err := Next(p.Status, ev); err != nil {
			return p, err
		}
	}
	if err := s.worker.Control(ctx, p.WorkerSessionID, req); err != nil {
		s.metrics.workerErrors.Inc()
		f := ExplainWorker(err)
		s.log.Warn("worker control failed", "party", partyID, "action", req.Action, "workerSession", p.WorkerSessionID, "err", f.Err)
		s.event(ctx, partyID, "worker.error", map[string]any{"action": req.Action, "error": f.Headline, "detail": f.Err.Error()})
		return p, f
	}
	if req.PositionSeconds != nil {
		s.commanded(partyID)
	}
	if ev != "" {
		if err := s.setStatus(ctx, s.db, &p, ev); err != nil {
			return p, err
		}
	}
	if req.PositionSeconds != nil {
		if _, err := s.db.ExecContext(ctx, `UPDATE worker_state SET position_seconds = ?, updated_at = ? WHERE party_id = ?`,
			*req.PositionSeconds, s.nowMs(), partyID); err != nil {
			return p, fmt.Errorf("party: save position: %w", err)
		}
	}
	payload := map[string]any{"action": req.Action}
	if req.PositionSeconds != nil {
		payload["positionSeconds"] = *req.PositionSeconds
	}
	s.event(ctx, partyID, "playback."+req.Action, payload)
	return p, nil
}

// Skip ends the current entry and plays the next one, or finishes the
// queue. The API owns the queue: it sends play of the next item itself.
func (s *Service) Skip(ctx context.Context, partyID int64) (Party, error) {
	unlock := s.lock(partyID)
	defer unlock()
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return p, err
	}
	if !p.Status.Active() && p.Status != StatusError {
		return p, fmt.Errorf("%w: cannot skip in a party that is %s", ErrBadTransition, p.Status)
	}
	s.event(ctx, partyID, "playback.skip", map[string]any{"entryId": p.CurrentEntryID})
	err = s.advance(ctx, &p, EntrySkipped)
	return p, err
}

// Stop ends playback and the worker session; Play later resumes the
// current entry where it stopped.
func (s *Service) Stop(ctx context.Context, partyID int64) (Party, error) {
	unlock := s.lock(partyID)
	defer unlock()
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return p, err
	}
	if _, err := Next(p.Status, EvStop); err != nil {
		return p, err
	}
	if p.WorkerSessionID != "" {
		s.keepStopPosition(ctx, partyID, p.WorkerSessionID)
		if err := s.worker.Control(ctx, p.WorkerSessionID, ControlRequest{Action: "stop"}); err != nil {
			s.log.Debug("worker stop", "party", partyID, "err", err)
		}
		s.dropSession(partyID, p.WorkerSessionID)
	}
	if p.CurrentEntryID != nil {
		if e, err := s.Entry(ctx, partyID, *p.CurrentEntryID); err == nil && e.Status == EntryPlaying {
			_ = s.setEntryStatus(ctx, s.db, e.ID, EntryQueued)
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE worker_state SET status = 'stopped', playback_state = 'stopped', updated_at = ?
		WHERE party_id = ?`, s.nowMs(), partyID); err != nil {
		return p, fmt.Errorf("party: stop: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE parties SET worker_session_id = '' WHERE id = ?`, partyID); err != nil {
		return p, fmt.Errorf("party: stop: %w", err)
	}
	p.WorkerSessionID = ""
	if err := s.setStatus(ctx, s.db, &p, EvStop); err != nil {
		return p, err
	}
	s.event(ctx, partyID, "playback.stop", map[string]any{})
	return p, nil
}

// advance closes the current entry with status done and starts the next
// waiting one; entries that fail to resolve are marked failed and passed
// over. With nothing left the party stops. The caller holds the lock.
func (s *Service) advance(ctx context.Context, p *Party, done EntryStatus) error {
	after := 0
	if p.CurrentEntryID != nil {
		if cur, err := s.Entry(ctx, p.ID, *p.CurrentEntryID); err == nil {
			after = cur.Position
			if cur.Status == EntryPlaying || cur.Status == EntryQueued {
				if err := s.setEntryStatus(ctx, s.db, cur.ID, done); err != nil {
					return err
				}
			}
		}
	}
	for {
		next, err := s.nextQueued(ctx, s.db, p.ID, after)
		if errors.Is(err, ErrNothingToPlay) {
			return s.finish(ctx, p)
		}
		if err != nil {
			return err
		}
		err = s.startEntry(ctx, p, next, 0)
		if errors.Is(err, ErrResolve) {
			after = next.Position
			continue
		}
		return err
	}
}

// finish stops a party whose queue ran out and releases its worker session.
func (s *Service) finish(ctx context.Context, p *Party) error {
	if p.WorkerSessionID != "" {
		s.dropSession(p.ID, p.WorkerSessionID)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE worker_state SET status = 'stopped', playback_state = 'stopped',
		updated_at = ? WHERE party_id = ?`, s.nowMs(), p.ID); err != nil {
		return fmt.Errorf("party: finish: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE parties SET worker_session_id = '', current_entry_id = NULL WHERE id = ?`, p.ID); err != nil {
		return fmt.Errorf("party: finish: %w", err)
	}
	p.WorkerSessionID, p.CurrentEntryID = "", nil
	if p.Status.Active() {
		if err := s.setStatus(ctx, s.db, p, EvFinished); err != nil {
			return err
		}
	} else if err := s.setStatus(ctx, s.db, p, EvStop); err != nil {
		return err
	}
	s.event(ctx, p.ID, "queue.finished", map[string]any{})
	return nil
}

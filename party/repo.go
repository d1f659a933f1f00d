package party

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// execer is what both *sql.DB and *sql.Tx offer.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Service) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("party: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("party: commit: %w", err)
	}
	return nil
}

const partyCols = `id, guild_id, voice_channel_id, text_channel_id, owner_id, title, status, room,
	worker_session_id, current_entry_id, invite_epoch, starts_at, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanParty(r scanner) (Party, error) {
	var p Party
	err := r.Scan(&p.ID, &p.GuildID, &p.VoiceChannelID, &p.TextChannelID, &p.OwnerID, &p.Title, &p.Status, &p.Room,
		&p.WorkerSessionID, &p.CurrentEntryID, &p.InviteEpoch, &p.StartsAtMs, &p.CreatedAtMs, &p.UpdatedAtMs)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("party: %w", ErrNotFound)
	}
	return p, err
}

// NewParty describes a party to create.
type NewParty struct {
	Title          string `json:"title"`
	GuildID        string `json:"guildId"`
	VoiceChannelID string `json:"voiceChannelId"`
	TextChannelID  string `json:"textChannelId"`
}

func (n NewParty) validate() error {
	n.Title = strings.TrimSpace(n.Title)
	if n.Title == "" || len(n.Title) > MaxTitleBytes {
		return fmt.Errorf("%w: title must be 1-%d bytes", ErrInvalid, MaxTitleBytes)
	}
	for _, v := range []string{n.GuildID, n.VoiceChannelID, n.TextChannelID} {
		if len(v) > 64 {
			return fmt.Errorf("%w: channel and guild ids are at most 64 bytes", ErrInvalid)
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Create makes a draft party owned (and hosted) by ownerID.
func (s *Service) Create(ctx context.Context, ownerID int64, n NewParty) (Party, error) {
	if err := n.validate(); err != nil {
		return Party{}, err
	}
	var p Party
	now := s.nowMs()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanParty(tx.QueryRowContext(ctx, `INSERT INTO parties(guild_id, voice_channel_id, text_channel_id,
			owner_id, title, status, room, created_at, updated_at) VALUES(?, ?, ?, ?, ?, 'draft', ?, ?, ?) RETURNING `+partyCols,
			n.GuildID, n.VoiceChannelID, n.TextChannelID, ownerID, strings.TrimSpace(n.Title), "party-"+randomHex(8), now, now))
		if err != nil {
			return fmt.Errorf("party: create: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO party_members(party_id, user_id, role, joined_at) VALUES(?, ?, 'host', ?)`,
			p.ID, ownerID, now); err != nil {
			return fmt.Errorf("party: create host: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO worker_state(party_id, updated_at) VALUES(?, ?)`, p.ID, now)
		return err
	})
	if err != nil {
		return Party{}, err
	}
	s.event(ctx, p.ID, "party.created", map[string]any{"title": p.Title, "ownerId": ownerID})
	return p, nil
}

// Get returns one party.
func (s *Service) Get(ctx context.Context, id int64) (Party, error) {
	return s.getParty(ctx, s.db, id)
}

func (s *Service) getParty(ctx context.Context, q execer, id int64) (Party, error) {
	return scanParty(q.QueryRowContext(ctx, `SELECT `+partyCols+` FROM parties WHERE id = ?`, id))
}

// List returns every party when all is true, else the parties userID is an
// active member of, newest first.
func (s *Service) List(ctx context.Context, userID int64, all bool) ([]Party, error) {
	q := `SELECT ` + partyCols + ` FROM parties ORDER BY id DESC`
	args := []any{}
	if !all {
		q = `SELECT ` + partyCols + ` FROM parties WHERE id IN
			(SELECT party_id FROM party_members WHERE user_id = ? AND left_at IS NULL) ORDER BY id DESC`
		args = append(args, userID)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("party: list: %w", err)
	}
	defer rows.Close()
	out := []Party{}
	for rows.Next() {
		p, err := scanParty(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PartyUpdate changes a party's descriptive fields; nil leaves one alone.
type PartyUpdate struct {
	Title          *string `json:"title"`
	GuildID        *string `json:"guildId"`
	VoiceChannelID *string `json:"voiceChannelId"`
	TextChannelID  *string `json:"textChannelId"`
}

// Update edits a party's title and channels.
func (s *Service) Update(ctx context.Context, id int64, u PartyUpdate) (Party, error) {
	if u.Title != nil && (strings.TrimSpace(*u.Title) == "" || len(*u.Title) > MaxTitleBytes) {
		return Party{}, fmt.Errorf("%w: title must be 1-%d bytes", ErrInvalid, MaxTitleBytes)
	}
	p, err := scanParty(s.db.QueryRowContext(ctx, `UPDATE parties SET title = COALESCE(?, title),
		guild_id = COALESCE(?, guild_id), voice_channel_id = COALESCE(?, voice_channel_id),
		text_channel_id = COALESCE(?, text_channel_id), updated_at = ? WHERE id = ? RETURNING `+partyCols,
		u.Title, u.GuildID, u.VoiceChannelID, u.TextChannelID, s.nowMs(), id))
	if err != nil {
		return Party{}, err
	}
	s.event(ctx, id, "party.updated", p)
	return p, nil
}

// Delete stops a party's ingest session (best effort) and removes it.
func (s *Service) Delete(ctx context.Context, id int64) error {
	p, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	unlock := s.lock(id)
	defer unlock()
	if p.WorkerSessionID != "" {
		s.dropSession(id, p.WorkerSessionID)
	}
	s.deleteRoom(ctx, p.Room)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM parties WHERE id = ?`, id); err != nil {
		return fmt.Errorf("party: delete: %w", err)
	}
	s.broker.closeParty(id)
	s.mu.Lock()
	delete(s.cmdAt, id)
	delete(s.retryAt, id)
	s.mu.Unlock()
	return nil
}

// RevokeInvites voids every invite of the party minted so far.
func (s *Service) RevokeInvites(ctx context.Context, id int64) (Party, error) {
	p, err := scanParty(s.db.QueryRowContext(ctx, `UPDATE parties SET invite_epoch = invite_epoch + 1, updated_at = ?
		WHERE id = ? RETURNING `+partyCols, s.nowMs(), id))
	if err != nil {
		return p, err
	}
	s.event(ctx, id, "invites.revoked", map[string]any{"inviteEpoch": p.InviteEpoch})
	return p, nil
}

// CheckInvite verifies an invite token against the party's current
// invite epoch; the party must exist.
func (s *Service) CheckInvite(ctx context.Context, key []byte, token string) (Invite, Party, error) {
	inv, err := VerifyInvite(key, token, s.now())
	if err != nil {
		return inv, Party{}, err
	}
	p, err := s.Get(ctx, inv.PartyID)
	if err != nil {
		return inv, p, err
	}
	if p.InviteEpoch != inv.Epoch {
		return inv, p, ErrInviteRevoked
	}
	return inv, p, nil
}

// setStatus moves a party through the machine and records the change.
func (s *Service) setStatus(ctx context.Context, q execer, p *Party, ev Event) error {
	to, err := Next(p.Status, ev)
	if err != nil {
		return err
	}
	if to == p.Status {
		return nil
	}
	if _, err := q.ExecContext(ctx, `UPDATE parties SET status = ?, updated_at = ? WHERE id = ?`, to, s.nowMs(), p.ID); err != nil {
		return fmt.Errorf("party: set status: %w", err)
	}
	s.log.Debug("party status", "party", p.ID, "from", p.Status, "to", to, "event", ev)
	s.metrics.transitions.WithLabelValues(string(to)).Inc()
	p.Status = to
	return nil
}

// WorkerState returns what the control plane knows of a party's ingest.
func (s *Service) WorkerState(ctx context.Context, partyID int64) (WorkerState, error) {
	return s.workerState(ctx, s.db, partyID)
}

func (s *Service) workerState(ctx context.Context, q execer, partyID int64) (WorkerState, error) {
	var w WorkerState
	err := q.QueryRowContext(ctx, `SELECT party_id, worker_session_id, status, playback_state, queue_entry_id,
		position_seconds, duration_seconds, last_heartbeat_at, last_error, recoveries, updated_at
		FROM worker_state WHERE party_id = ?`, partyID).Scan(&w.PartyID, &w.WorkerSessionID, &w.Status, &w.PlaybackState,
		&w.QueueEntryID, &w.PositionSeconds, &w.DurationSeconds, &w.LastHeartbeatMs, &w.LastError, &w.Recoveries, &w.UpdatedAtMs)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("party: worker state: %w", ErrNotFound)
	}
	return w, err
}

func (s *Service) saveWorkerState(ctx context.Context, q execer, w WorkerState) error {
	w.UpdatedAtMs = s.nowMs()
	_, err := q.ExecContext(ctx, `UPDATE worker_state SET worker_session_id = ?, status = ?, playback_state = ?,
		queue_entry_id = ?, position_seconds = ?, duration_seconds = ?, last_heartbeat_at = ?, last_error = ?,
		recoveries = ?, updated_at = ? WHERE party_id = ?`, w.WorkerSessionID, w.Status, w.PlaybackState, w.QueueEntryID,
		w.PositionSeconds, w.DurationSeconds, w.LastHeartbeatMs, w.LastError, w.Recoveries, w.UpdatedAtMs, w.PartyID)
	if err != nil {
		return fmt.Errorf("party: save worker state: %w", err)
	}
	return nil
}

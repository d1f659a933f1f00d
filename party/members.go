package party

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

const memberCols = `m.party_id, m.user_id, m.role, m.joined_at, m.left_at, u.display_name`

func scanMember(r scanner) (Member, error) {
	var m Member
	err := r.Scan(&m.PartyID, &m.UserID, &m.Role, &m.JoinedAtMs, &m.LeftAtMs, &m.DisplayName)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("member: %w", ErrNotFound)
	}
	return m, err
}

// Member returns a user's active membership of a party, or ErrNotFound.
func (s *Service) Member(ctx context.Context, partyID, userID int64) (Member, error) {
	return scanMember(s.db.QueryRowContext(ctx, `SELECT `+memberCols+` FROM party_members m JOIN users u ON u.id = m.user_id
		WHERE m.party_id = ? AND m.user_id = ? AND m.left_at IS NULL`, partyID, userID))
}

// Members lists a party's active members, host first.
func (s *Service) Members(ctx context.Context, partyID int64) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+memberCols+` FROM party_members m JOIN users u ON u.id = m.user_id
		WHERE m.party_id = ? AND m.left_at IS NULL
		ORDER BY CASE m.role WHEN 'host' THEN 0 WHEN 'cohost' THEN 1 ELSE 2 END, m.joined_at`, partyID)
	if err != nil {
		return nil, fmt.Errorf("party: members: %w", err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Join adds userID to a party with role (listener or cohost), or rejoins it.
// A host who rejoins stays host; a rejoin never lowers a role.
func (s *Service) Join(ctx context.Context, partyID, userID int64, role Role) (Member, error) {
	if role != RoleListener && role != RoleCohost {
		return Member{}, fmt.Errorf("%w: join role must be listener or cohost", ErrInvalid)
	}
	unlock := s.lock(partyID)
	defer unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getParty(ctx, tx, partyID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO party_members(party_id, user_id, role, joined_at) VALUES(?, ?, ?, ?)
			ON CONFLICT(party_id, user_id) DO UPDATE SET left_at = NULL,
			role = CASE WHEN party_members.role = 'host' THEN 'host'
			            WHEN party_members.role = 'cohost' AND party_members.left_at IS NULL THEN 'cohost'
			            ELSE excluded.role END`, partyID, userID, role, s.nowMs())
		if err != nil {
			return fmt.Errorf("party: join: %w", err)
		}
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	m, err := s.Member(ctx, partyID, userID)
	if err == nil {
		s.event(ctx, partyID, "member.joined", m)
	}
	return m, err
}

// Leave removes userID from a party. When the host leaves, the
// longest-standing co-host becomes host; with none, the party carries on
// without a host until an admin or the owner hands the role on.
func (s *Service) Leave(ctx context.Context, partyID, userID int64) (newHost *Member, err error) {
	unlock := s.lock(partyID)
	defer unlock()
	var promoted int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var role Role
		err := tx.QueryRowContext(ctx, `SELECT role FROM party_members WHERE party_id = ? AND user_id = ? AND left_at IS NULL`,
			partyID, userID).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("member: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE party_members SET left_at = ?, role = CASE WHEN role = 'host' THEN 'cohost' ELSE role END
			WHERE party_id = ? AND user_id = ?`, s.nowMs(), partyID, userID); err != nil {
			return fmt.Errorf("party: leave: %w", err)
		}
		if role != RoleHost {
			return nil
		}
		err = tx.QueryRowContext(ctx, `SELECT user_id FROM party_members WHERE party_id = ? AND role = 'cohost'
			AND left_at IS NULL ORDER BY joined_at, user_id LIMIT 1`, partyID).Scan(&promoted)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE party_members SET role = 'host' WHERE party_id = ? AND user_id = ?`, partyID, promoted)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.event(ctx, partyID, "member.left", map[string]any{"userId": userID})
	if promoted != 0 {
		m, err := s.Member(ctx, partyID, promoted)
		if err != nil {
			return nil, err
		}
		s.event(ctx, partyID, "host.changed", m)
		s.updateRoomRole(ctx, partyID, m)
		return &m, nil
	}
	return nil, nil
}

// HandOff makes toUserID, an active member, the party's host; the previous
// host (if any) becomes a co-host.
func (s *Service) HandOff(ctx context.Context, partyID, toUserID int64) (Member, error) {
	unlock := s.lock(partyID)
	defer unlock()
	var old []int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM party_members WHERE party_id = ? AND user_id = ? AND left_at IS NULL`,
			partyID, toUserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: user %d is not in this party", ErrNotFound, toUserID)
		}
		rows, err := tx.QueryContext(ctx, `SELECT user_id FROM party_members WHERE party_id = ? AND role = 'host' AND user_id != ?`, partyID, toUserID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			old = append(old, id)
		}
		rows.Close()
		if _, err := tx.ExecContext(ctx, `UPDATE party_members SET role = 'cohost' WHERE party_id = ? AND role = 'host'`, partyID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE party_members SET role = 'host' WHERE party_id = ? AND user_id = ?`, partyID, toUserID)
		return err
	})
	if err != nil {
		return Member{}, err
	}
	m, err := s.Member(ctx, partyID, toUserID)
	if err != nil {
		return Member{}, err
	}
	s.event(ctx, partyID, "host.changed", m)
	s.updateRoomRole(ctx, partyID, m)
	for _, id := range old {
		if om, err := s.Member(ctx, partyID, id); err == nil {
			s.updateRoomRole(ctx, partyID, om)
		}
	}
	return m, nil
}

package auth

import (
	"context"
	"fmt"
	"time"
)

// GuestGrace is how long a guest account outlives its last session.
const GuestGrace = 24 * time.Hour

// Pruned counts what Prune removed.
type Pruned struct {
	Sessions, LoginLinks, Guests int64
}

// Prune deletes expired sessions and login links, and guest accounts older
// than GuestGrace that have no live session left (their memberships and
// history go with them). Run it periodically.
func (s *Store) Prune(ctx context.Context) (Pruned, error) {
	now := s.now()
	var p Pruned
	steps := []struct {
		n     *int64
		query string
		args  []any
	}{
		{&p.Sessions, `DELETE FROM auth_sessions WHERE expires_at <= ?`, []any{now}},
		// A spent link stays until it expires, so its page can say "already used".
		{&p.LoginLinks, `DELETE FROM login_links WHERE expires_at <= ?`, []any{now}},
		{&p.Guests, `DELETE FROM users WHERE role = 'guest' AND created_at <= ?
			AND NOT EXISTS (SELECT 1 FROM auth_sessions s WHERE s.user_id = users.id)
			AND NOT EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = users.id)`, []any{now - GuestGrace.Milliseconds()}},
	}
	for _, st := range steps {
		res, err := s.db.ExecContext(ctx, st.query, st.args...)
		if err != nil {
			return p, fmt.Errorf("auth: prune: %w", err)
		}
		*st.n, _ = res.RowsAffected()
	}
	return p, nil
}

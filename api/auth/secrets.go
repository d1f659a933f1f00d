package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Prefixes tell secrets apart in a bug report without revealing them.
const (
	sessionPrefix = "mqs_"
	tokenPrefix   = "mqt_"
	linkPrefix    = "mql_"
)

// CreateSession starts a browser session for user and returns its secret id,
// which goes into the cookie and nowhere else.
func (s *Store) CreateSession(ctx context.Context, userID int64) (string, error) {
	id, err := NewSecret(sessionPrefix)
	if err != nil {
		return "", err
	}
	now := s.now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO auth_sessions(id_hash, user_id, created_at, expires_at, last_seen_at)
		VALUES(?, ?, ?, ?, ?)`, hashSecret(id), userID, now, now+s.cfg.SessionTTL.Milliseconds(), now)
	if err != nil {
		return "", fmt.Errorf("auth: create session: %w", err)
	}
	return id, nil
}

// SessionUser returns the account behind a session id and slides its expiry.
func (s *Store) SessionUser(ctx context.Context, id string) (User, error) {
	var userID, expires, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, expires_at, last_seen_at FROM auth_sessions WHERE id_hash = ?`,
		hashSecret(id)).Scan(&userID, &expires, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: session: %w", err)
	}
	now := s.now()
	if now >= expires {
		return User{}, ErrExpired
	}
	// Slide the expiry at most once a minute, to keep reads read-only.
	if now-seen > time.Minute.Milliseconds() {
		_, _ = s.db.ExecContext(ctx, `UPDATE auth_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?`,
			now, now+s.cfg.SessionTTL.Milliseconds(), hashSecret(id))
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if u.Disabled {
		return User{}, ErrInvalidCredentials
	}
	return u, nil
}

// DeleteSession ends a browser session; unknown ids are not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE id_hash = ?`, hashSecret(id))
	return err
}

// Token is an API token's public description (never the secret).
type Token struct {
	ID           int64  `json:"id"`
	UserID       int64  `json:"userId"`
	Name         string `json:"name"`
	CreatedAtMs  int64  `json:"createdAtMs"`
	ExpiresAtMs  *int64 `json:"expiresAtMs,omitempty"`
	LastUsedAtMs *int64 `json:"lastUsedAtMs,omitempty"`
}

// CreateToken mints an API token for user; ttl 0 means it never expires.
// The secret is returned once and only its hash is kept.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string, ttl time.Duration) (Token, string, error) {
	if name == "" || len(name) > 80 {
		return Token{}, "", fmt.Errorf("%w: token name must be 1-80 bytes", ErrInvalid)
	}
	secret, err := NewSecret(tokenPrefix)
	if err != nil {
		return Token{}, "", err
	}
	var exp *int64
	if ttl > 0 {
		e := s.now() + ttl.Milliseconds()
		exp = &e
	}
	t := Token{UserID: userID, Name: name, CreatedAtMs: s.now(), ExpiresAtMs: exp}
	err = s.db.QueryRowContext(ctx, `INSERT INTO api_tokens(user_id, name, token_hash, created_at, expires_at)
		VALUES(?, ?, ?, ?, ?) RETURNING id`, userID, name, hashSecret(secret), t.CreatedAtMs, exp).Scan(&t.ID)
	if err != nil {
		return Token{}, "", fmt.Errorf("auth: create token: %w", err)
	}
	return t, secret, nil
}

// TokenUser returns the account behind a bearer token.
func (s *Store) TokenUser(ctx context.Context, secret string) (User, error) {
	var userID, id int64
	var exp sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, expires_at FROM api_tokens WHERE token_hash = ?`,
		hashSecret(secret)).Scan(&id, &userID, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: token: %w", err)
	}
	if exp.Valid && s.now() >= exp.Int64 {
		return User{}, ErrExpired
	}
	_, _ = s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, s.now(), id)
	u, err := s.User(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if u.Disabled {
		return User{}, ErrInvalidCredentials
	}
	return u, nil
}

// Tokens lists a user's API tokens.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, name, created_at, expires_at, last_used_at
		FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.CreatedAtMs, &t.ExpiresAtMs, &t.LastUsedAtMs); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes a user's token.
func (s *Store) DeleteToken(ctx context.Context, userID, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("auth: delete token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateLoginLink mints a single-use login secret for user valid for ttl.
func (s *Store) CreateLoginLink(ctx context.Context, userID int64, ttl time.Duration) (string, error) {
	secret, err := NewSecret(linkPrefix)
	if err != nil {
		return "", err
	}
	now := s.now()
	_, err = s.db.ExecContext(ctx, `INSERT INTO login_links(token_hash, user_id, created_at, expires_at) VALUES(?, ?, ?, ?)`,
		hashSecret(secret), userID, now, now+ttl.Milliseconds())
	if err != nil {
		return "", fmt.Errorf("auth: create login link: %w", err)
	}
	return secret, nil
}

// ConsumeLoginLink spends a login secret and returns its account. A second
// use fails with ErrLinkUsed (which is also ErrExpired), a use after expiry
// with ErrExpired, an unknown secret with ErrInvalidCredentials.
func (s *Store) ConsumeLoginLink(ctx context.Context, secret string) (User, error) {
	now := s.now()
	var userID int64
	err := s.db.QueryRowContext(ctx, `UPDATE login_links SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		now, hashSecret(secret), now).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		var used sql.NullBool
		err := s.db.QueryRowContext(ctx, `SELECT used_at IS NOT NULL FROM login_links WHERE token_hash = ?`, hashSecret(secret)).Scan(&used)
		switch {
		case err != nil:
			return User{}, ErrInvalidCredentials
		case used.Bool:
			return User{}, ErrLinkUsed
		}
		return User{}, ErrExpired
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: login link: %w", err)
	}
	return s.User(ctx, userID)
}

// Bootstrap creates the first admin when the database has no account and
// returns it with a login-link secret valid for ttl; on later starts it
// returns created=false and does nothing.
func (s *Store) Bootstrap(ctx context.Context, ttl time.Duration) (u User, secret string, created bool, err error) {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
		return User{}, "", false, err
	}
	u, err = s.CreateUser(ctx, NewUser{Username: "admin", DisplayName: "Admin", Role: RoleAdmin})
	if err != nil {
		return User{}, "", false, err
	}
	secret, err = s.CreateLoginLink(ctx, u.ID, ttl)
	return u, secret, err == nil, err
}

// SetLibraryAccess limits user to the given libraries, or lifts the limit
// when all is true.
func (s *Store) SetLibraryAccess(ctx context.Context, userID int64, all bool, libraryIDs []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("auth: library access: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, `UPDATE users SET all_libraries = ? WHERE id = ?`, all, userID)
	if err != nil {
		return fmt.Errorf("auth: library access: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_library_access WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("auth: library access: %w", err)
	}
	for _, id := range libraryIDs {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO user_library_access(user_id, library_id) VALUES(?, ?)`, userID, id); err != nil {
			return fmt.Errorf("auth: library access: %w", err)
		}
	}
	return tx.Commit()
}

// LibraryAccess returns whether user sees every library and, if not, which.
func (s *Store) LibraryAccess(ctx context.Context, userID int64) (all bool, ids []string, err error) {
	if err := s.db.QueryRowContext(ctx, `SELECT all_libraries FROM users WHERE id = ?`, userID).Scan(&all); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil, ErrNotFound
		}
		return false, nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT library_id FROM user_library_access WHERE user_id = ? ORDER BY library_id`, userID)
	if err != nil {
		return false, nil, err
	}
	defer rows.Close()
	ids = []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return false, nil, err
		}
		ids = append(ids, id)
	}
	return all, ids, rows.Err()
}

// CanAccessLibrary reports whether u may browse library id. Admins and
// accounts with all_libraries see everything; guests see no library.
func (s *Store) CanAccessLibrary(ctx context.Context, u User, libraryID string) (bool, error) {
	switch {
	case u.Role == RoleAdmin:
		return true, nil
	case u.Role == RoleGuest:
		return false, nil
	case u.AllLibraries:
		return true, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_library_access WHERE user_id = ? AND library_id = ?`,
		u.ID, libraryID).Scan(&n)
	return n > 0, err
}

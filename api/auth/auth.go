// Package auth keeps Marquee's accounts and the ways they prove who they
// are: passwords (argon2id), browser sessions, API tokens for bots, and
// single-use login links. Every secret handed to a client is 256 random bits;
// only its SHA-256 is stored, so a leaked database cannot be replayed.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marquee-party/marquee/internal/store"
)

// Errors returned by the Store. The API maps them to JSON error codes.
var (
	// ErrNotFound means no such user, session, token or link.
	ErrNotFound = errors.New("not found")
	// ErrInvalidCredentials means a wrong username, password, or secret.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrExpired means the session, token or link has expired or was used.
	ErrExpired = errors.New("expired")
	// ErrLinkUsed means a login link was already spent; it wraps ErrExpired
	// so callers that only know ErrExpired still refuse it.
	ErrLinkUsed = fmt.Errorf("this sign-in link was already used: it %w after one use", ErrExpired)
	// ErrConflict means the username is taken.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means a field failed validation.
	ErrInvalid = errors.New("invalid")
	// ErrBadHash means a stored password hash cannot be parsed.
	ErrBadHash = errors.New("bad password hash")
)

// Role is an account's global role.
type Role string

// Roles, from most to least trusted.
const (
	// RoleAdmin manages users and every party and library.
	RoleAdmin Role = "admin"
	// RoleMember hosts parties and browses the libraries granted to it.
	RoleMember Role = "member"
	// RoleGuest arrived through an invite and sees only its parties.
	RoleGuest Role = "guest"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMember || r == RoleGuest }

// User is an account.
type User struct {
	ID           int64  `json:"id"`
	Username     string `json:"username"`
	DisplayName  string `json:"displayName"`
	Role         Role   `json:"role"`
	AllLibraries bool   `json:"allLibraries"`
	HasPassword  bool   `json:"hasPassword"`
	Disabled     bool   `json:"disabled"`
	CreatedAtMs  int64  `json:"createdAtMs"`
}

// Config tunes a Store.
type Config struct {
	// SessionTTL is how long a browser session lives without use.
	SessionTTL time.Duration
	// Hash is argon2id's cost; DefaultHashParams when zero.
	Hash HashParams
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Store reads and writes accounts in the database.
type Store struct {
	db  *sql.DB
	cfg Config
}

// New returns a Store over db, whose schema store.Open has migrated.
func New(db *sql.DB, cfg Config) *Store {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.Hash.Memory == 0 {
		cfg.Hash = DefaultHashParams
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{db: db, cfg: cfg}
}

func (s *Store) now() int64 { return s.cfg.Now().UnixMilli() }

// NewSecret returns 256 random bits, base64url-encoded, prefixed.
func NewSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is the stored form of a secret.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

const userCols = `id, username, display_name, role, password_hash IS NOT NULL, all_libraries, disabled, created_at`

type scanner interface{ Scan(...any) error }

func scanUser(r scanner) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.HasPassword, &u.AllLibraries, &u.Disabled, &u.CreatedAtMs)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// NewUser describes an account to create.
type NewUser struct {
	Username    string
	DisplayName string
	Role        Role
	// Password, when empty, leaves the account without password login.
	Password string
}

// CreateUser adds an account.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	n.Username = strings.TrimSpace(n.Username)
	if n.Username == "" || len(n.Username) > 64 || strings.ContainsAny(n.Username, " \t\r\n/") {
		return User{}, fmt.Errorf("%w: username must be 1-64 characters without spaces or slashes", ErrInvalid)
	}
	if !n.Role.Valid() {
		return User{}, fmt.Errorf("%w: role %q", ErrInvalid, n.Role)
	}
	if n.DisplayName = strings.TrimSpace(n.DisplayName); n.DisplayName == "" {
		n.DisplayName = n.Username
	}
	if len(n.DisplayName) > 80 {
		return User{}, fmt.Errorf("%w: display name longer than 80 bytes", ErrInvalid)
	}
	var hash sql.NullString
	if n.Password != "" {
		h, err := s.hash(n.Password)
		if err != nil {
			return User{}, err
		}
		hash = sql.NullString{String: h, Valid: true}
	}
	row := s.db.QueryRowContext(ctx, `INSERT INTO users(username, display_name, role, password_hash, created_at)
		VALUES(?, ?, ?, ?, ?) RETURNING `+userCols, n.Username, n.DisplayName, n.Role, hash, s.now())
	u, err := scanUser(row)
	if store.IsConstraint(err) {
		return User{}, fmt.Errorf("%w: username %q is taken", ErrConflict, n.Username)
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: create user: %w", err)
	}
	return u, nil
}

func (s *Store) hash(password string) (string, error) {
	if len(password) < 8 || len(password) > 1024 {
		return "", fmt.Errorf("%w: password must be 8-1024 bytes", ErrInvalid)
	}
	return HashPassword(password, s.cfg.Hash)
}

// User returns the account with id.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	return scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

// Users lists every account by id.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns how many accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// UserUpdate changes some of an account's fields; nil leaves one alone.
type UserUpdate struct {
	DisplayName *string
	Role        *Role
	Disabled    *bool
	Password    *string
}

// UpdateUser applies u to the account with id.
func (s *Store) UpdateUser(ctx context.Context, id int64, u UserUpdate) (User, error) {
	if u.Role != nil && !u.Role.Valid() {
		return User{}, fmt.Errorf("%w: role %q", ErrInvalid, *u.Role)
	}
	if u.DisplayName != nil && (strings.TrimSpace(*u.DisplayName) == "" || len(*u.DisplayName) > 80) {
		return User{}, fmt.Errorf("%w: display name must be 1-80 bytes", ErrInvalid)
	}
	var hash *string
	if u.Password != nil {
		h, err := s.hash(*u.Password)
		if err != nil {
			return User{}, err
		}
		hash = &h
	}
	res, err := s.db.ExecContext(ctx, `UPDATE users SET
		display_name = COALESCE(?, display_name), role = COALESCE(?, role),
		disabled = COALESCE(?, disabled), password_hash = COALESCE(?, password_hash) WHERE id = ?`,
		u.DisplayName, u.Role, u.Disabled, hash, id)
	if err != nil {
		return User{}, fmt.Errorf("auth: update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return User{}, ErrNotFound
	}
	if u.Disabled != nil && *u.Disabled {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM auth_sessions WHERE user_id = ?`, id); err != nil {
			return User{}, fmt.Errorf("auth: revoke sessions: %w", err)
		}
	}
	return s.User(ctx, id)
}

// DeleteUser removes an account and, by cascade, its sessions and tokens.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("auth: delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Login checks a username and password and returns the account.
func (s *Store) Login(ctx context.Context, username, password string) (User, error) {
	var hash sql.NullString
	var id int64
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash, disabled FROM users WHERE username = ?`, username).
		Scan(&id, &hash, &disabled)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!hash.Valid || disabled)) {
		// Spend the same work as a real check so timing does not reveal
		// which usernames exist.
		_, _ = HashPassword(password, s.cfg.Hash)
		return User{}, ErrInvalidCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: login: %w", err)
	}
	ok, err := VerifyPassword(password, hash.String)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, ErrInvalidCredentials
	}
	return s.User(ctx, id)
}

package auth

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/store"
)

var testHash = HashParams{Memory: 64, Time: 1, Threads: 1}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	return New(db, Config{Hash: testHash, Now: c.now, SessionTTL: time.Hour}), c
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse", testHash)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pw, hash string
		ok             bool
		err            error
	}{
		{"right", "correct horse", h, true, nil},
		{"wrong", "correct horsE", h, false, nil},
		{"bcrypt", "x", "$2a$10$abc", false, ErrBadHash},
		{"truncated", "x", "$argon2id$v=19$m=64,t=1,p=1$", false, ErrBadHash},
		{"bad version", "x", "$argon2id$v=1$m=64,t=1,p=1$AAAA$AAAA", false, ErrBadHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyPassword(tt.pw, tt.hash)
			if ok != tt.ok || !errors.Is(err, tt.err) {
				t.Fatalf("VerifyPassword = %v, %v; want %v, %v", ok, err, tt.ok, tt.err)
			}
		})
	}
}

func TestLoginSessionsTokens(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	u, err := s.CreateUser(ctx, NewUser{Username: "Ann", Role: RoleMember, Password: "password1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "ann", Role: RoleMember}); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate username (case-insensitive): %v", err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Username: "bob", Role: "root"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad role: %v", err)
	}
	if _, err := s.Login(ctx, "ann", "wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "password1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	if got, err := s.Login(ctx, "ANN", "password1"); err != nil || got.ID != u.ID {
		t.Fatalf("login = %+v, %v", got, err)
	}

	sid, err := s.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionUser(ctx, sid); err != nil || got.ID != u.ID {
		t.Fatalf("session = %+v, %v", got, err)
	}
	if _, err := s.SessionUser(ctx, sid+"x"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("forged session: %v", err)
	}
	c.t = c.t.Add(2 * time.Hour)
	if _, err := s.SessionUser(ctx, sid); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired session: %v", err)
	}

	tok, secret, err := s.CreateToken(ctx, u.ID, "bot", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.TokenUser(ctx, secret); err != nil || got.ID != u.ID {
		t.Fatalf("token = %+v, %v", got, err)
	}
	c.t = c.t.Add(2 * time.Hour)
	if _, err := s.TokenUser(ctx, secret); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
	if err := s.DeleteToken(ctx, u.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenUser(ctx, secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("revoked token: %v", err)
	}

	disabled := true
	sid2, _ := s.CreateSession(ctx, u.ID)
	if _, err := s.UpdateUser(ctx, u.ID, UserUpdate{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionUser(ctx, sid2); err == nil {
		t.Fatal("disabled user's session still valid")
	}
}

func TestBootstrapAndLoginLink(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	admin, secret, created, err := s.Bootstrap(ctx, time.Hour)
	if err != nil || !created || admin.Role != RoleAdmin || secret == "" {
		t.Fatalf("Bootstrap = %+v, %q, %v, %v", admin, secret, created, err)
	}
	if _, _, again, err := s.Bootstrap(ctx, time.Hour); err != nil || again {
		t.Fatalf("second Bootstrap created=%v err=%v", again, err)
	}
	if got, err := s.ConsumeLoginLink(ctx, secret); err != nil || got.ID != admin.ID {
		t.Fatalf("consume = %+v, %v", got, err)
	}
	if _, err := s.ConsumeLoginLink(ctx, secret); !errors.Is(err, ErrLinkUsed) || !errors.Is(err, ErrExpired) {
		t.Fatalf("second use: %v, want ErrLinkUsed (an ErrExpired)", err)
	}
	if _, err := s.ConsumeLoginLink(ctx, "mql_forged"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("forged link: %v", err)
	}
	l2, _ := s.CreateLoginLink(ctx, admin.ID, time.Minute)
	c.t = c.t.Add(time.Hour)
	if _, err := s.ConsumeLoginLink(ctx, l2); !errors.Is(err, ErrExpired) || errors.Is(err, ErrLinkUsed) {
		t.Fatalf("expired link: %v, want ErrExpired and not ErrLinkUsed", err)
	}
}

func TestLibraryAccess(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	m, _ := s.CreateUser(ctx, NewUser{Username: "m", Role: RoleMember})
	g, _ := s.CreateUser(ctx, NewUser{Username: "g", Role: RoleGuest})
	a, _ := s.CreateUser(ctx, NewUser{Username: "a", Role: RoleAdmin})
	if err := s.SetLibraryAccess(ctx, m.ID, false, []string{"1", "3"}); err != nil {
		t.Fatal(err)
	}
	m, _ = s.User(ctx, m.ID)
	tests := []struct {
		name string
		u    User
		lib  string
		want bool
	}{
		{"member granted", m, "1", true},
		{"member not granted", m, "2", false},
		{"guest", g, "1", false},
		{"admin", a, "2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CanAccessLibrary(ctx, tt.u, tt.lib)
			if err != nil || got != tt.want {
				t.Fatalf("CanAccessLibrary = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

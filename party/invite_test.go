package party

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInviteTokens(t *testing.T) {
	key := []byte("k1")
	now := time.Unix(1_800_000_000, 0)
	good, err := SignInvite(key, Invite{PartyID: 42, Role: RoleCohost, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := SignInvite(key, Invite{PartyID: 42, Role: RoleListener, ExpiresAt: now.Add(-time.Second)})
	otherKey, _ := SignInvite([]byte("k2"), Invite{PartyID: 42, Role: RoleCohost, ExpiresAt: now.Add(time.Hour)})
	payload, mac, _ := strings.Cut(good, ".")
	// Flip the role byte inside the payload: the MAC must catch it.
	b := []byte(payload)
	b[13] ^= 0x01 // inside the role byte
	tampered := string(b) + "." + mac

	tests := []struct {
		name  string
		token string
		err   error
		role  Role
	}{
		{"good", good, nil, RoleCohost},
		{"expired", expired, ErrInviteExpired, ""},
		{"other key", otherKey, ErrInviteInvalid, ""},
		{"tampered payload", tampered, ErrInviteInvalid, ""},
		{"truncated mac", good[:len(good)-2], ErrInviteInvalid, ""},
		{"no dot", payload, ErrInviteInvalid, ""},
		{"empty", "", ErrInviteInvalid, ""},
		{"garbage", "%%%.%%%", ErrInviteInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := VerifyInvite(key, tt.token, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && (inv.PartyID != 42 || inv.Role != tt.role) {
				t.Fatalf("invite = %+v", inv)
			}
		})
	}
	if _, err := SignInvite(key, Invite{PartyID: 1, Role: RoleHost, ExpiresAt: now}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("host invite: %v", err)
	}
}

func FuzzVerifyInvite(f *testing.F) {
	key := []byte("fuzz")
	now := time.Unix(1_800_000_000, 0)
	tok, _ := SignInvite(key, Invite{PartyID: 7, Role: RoleListener, ExpiresAt: now.Add(time.Hour)})
	f.Add(tok)
	f.Add("")
	f.Add("a.b")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := VerifyInvite(key, s, now)
		if err == nil && (inv.PartyID <= 0 || !inv.Role.Valid() || inv.Role == RoleHost) {
			t.Fatalf("accepted %q as %+v", s, inv)
		}
	})
}

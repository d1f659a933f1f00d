package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPrune(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t) // session TTL 1 h
	member, _ := s.CreateUser(ctx, NewUser{Username: "m", Role: RoleMember})
	oldGuest, _ := s.CreateUser(ctx, NewUser{Username: "g1", Role: RoleGuest})
	activeGuest, _ := s.CreateUser(ctx, NewUser{Username: "g2", Role: RoleGuest})
	if _, err := s.CreateSession(ctx, oldGuest.ID); err != nil {
		t.Fatal(err)
	}
	link, _ := s.CreateLoginLink(ctx, member.ID, time.Hour)
	c.t = c.t.Add(GuestGrace + time.Hour) // every session and link has expired
	live, _ := s.CreateSession(ctx, activeGuest.ID)
	spent, _ := s.CreateLoginLink(ctx, member.ID, time.Hour)
	if _, err := s.ConsumeLoginLink(ctx, spent); err != nil {
		t.Fatal(err)
	}
	p, err := s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sessions != 1 || p.LoginLinks != 1 || p.Guests != 1 {
		t.Fatalf("pruned %+v", p)
	}
	if _, err := s.User(ctx, oldGuest.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old guest: %v", err)
	}
	if _, err := s.SessionUser(ctx, live); err != nil {
		t.Fatalf("live guest session: %v", err)
	}
	if _, err := s.User(ctx, member.ID); err != nil {
		t.Fatalf("member: %v", err)
	}
	if _, err := s.ConsumeLoginLink(ctx, link); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("pruned link: %v", err)
	}
	// A spent link that has not expired stays, so its page says "already used".
	if _, err := s.ConsumeLoginLink(ctx, spent); !errors.Is(err, ErrLinkUsed) {
		t.Fatalf("spent link after prune: %v, want ErrLinkUsed", err)
	}
}

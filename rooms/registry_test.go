package rooms

import (
	"errors"
	"testing"
)

func TestMemoryRegistry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ApplyDev()
	cfg.RTC.UDPPort = 0
	cfg.TURN.UDPPort = 0
	srv, err := NewServer(Params{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	reg := NewMemoryRegistry()
	opened := 0
	open := func(name string) func() *Room {
		return func() *Room { opened++; return newRoom(srv, name, nil) }
	}

	a, created := reg.LoadOrCreate("b-room", open("b-room"))
	if !created || opened != 1 {
		t.Fatalf("first LoadOrCreate: created=%v opened=%d", created, opened)
	}
	again, created := reg.LoadOrCreate("b-room", open("b-room"))
	if created || again != a || opened != 1 {
		t.Fatalf("second LoadOrCreate opened a new room")
	}
	b, _ := reg.LoadOrCreate("a-room", open("a-room"))
	if got := reg.List(); len(got) != 2 || got[0] != b || got[1] != a {
		t.Fatalf("List not sorted by name: %v", got)
	}
	if r, err := reg.Room("a-room"); err != nil || r != b {
		t.Fatalf("Room(a-room) = %v, %v", r, err)
	}
	reg.Remove(a)
	if _, err := reg.Room("b-room"); !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("removed room still found: %v", err)
	}
	// Removing a stale room must not evict its successor.
	c, _ := reg.LoadOrCreate("b-room", open("b-room"))
	reg.Remove(a)
	if r, _ := reg.Room("b-room"); r != c {
		t.Fatalf("stale Remove evicted the new room")
	}
	for _, r := range []*Room{a, b, c} {
		r.Close()
	}
}

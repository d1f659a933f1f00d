package party

import (
	"context"
	"testing"
	"time"
)

// TestSubscribeAllSeesEveryParty: SubscribeAll gets the events of parties
// created after it subscribed, alongside per-party subscribers, and is
// closed when the service stops.
func TestSubscribeAllSeesEveryParty(t *testing.T) {
	f := newFixture(t, time.Second)
	ctx := context.Background()
	all := f.svc.SubscribeAll()
	defer all.Close()
	a, err := f.svc.Create(ctx, f.owner, NewParty{Title: "A"})
	if err != nil {
		t.Fatal(err)
	}
	one := f.svc.Subscribe(a.ID)
	defer one.Close()
	b, err := f.svc.Create(ctx, f.owner, NewParty{Title: "B", GuildID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Update(ctx, a.ID, PartyUpdate{GuildID: new("2")}); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for range 3 {
		ev := <-all.C
		got = append(got, ev.PartyID)
	}
	if got[0] != a.ID || got[1] != b.ID || got[2] != a.ID {
		t.Fatalf("SubscribeAll saw parties %v, want [%d %d %d]", got, a.ID, b.ID, a.ID)
	}
	if ev := <-one.C; ev.PartyID != a.ID || ev.Type != "party.updated" {
		t.Fatalf("per-party subscriber got %+v", ev)
	}
	f.cancel()
	<-f.done
	if _, ok := <-all.C; ok {
		t.Fatal("SubscribeAll still open after Run stopped")
	}
}

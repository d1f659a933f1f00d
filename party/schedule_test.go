package party

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCheckStart(t *testing.T) {
	now := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		start time.Time
		ok    bool
	}{
		{"past", now.Add(-time.Minute), false},
		{"now", now, false},
		{"soon", now.Add(time.Minute), true},
		{"30 days", now.Add(MaxScheduleAhead), true},
		{"too far", now.Add(MaxScheduleAhead + time.Second), false},
	} {
		err := CheckStart(now, c.start)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: CheckStart = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestScheduleSetClearAndList(t *testing.T) {
	f := newFixtureWith(t, time.Second, func(*Params) {}, false)
	ctx := context.Background()
	p, err := f.svc.Create(ctx, f.owner, NewParty{Title: "Premiere"})
	if err != nil {
		t.Fatal(err)
	}
	if p.StartsAtMs != nil {
		t.Fatalf("new party scheduled at %d", *p.StartsAtMs)
	}
	start := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if p, err = f.svc.SetSchedule(ctx, p.ID, &start); err != nil {
		t.Fatal(err)
	}
	if p.StartsAtMs == nil || *p.StartsAtMs != start.UnixMilli() {
		t.Fatalf("StartsAtMs = %v, want %d", p.StartsAtMs, start.UnixMilli())
	}
	if got, _ := f.svc.Get(ctx, p.ID); got.StartsAtMs == nil || *got.StartsAtMs != start.UnixMilli() {
		t.Fatalf("Get: StartsAtMs = %v", got.StartsAtMs)
	}
	ps, err := f.svc.Scheduled(ctx, start.Add(-time.Minute), start.Add(time.Minute))
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("Scheduled = %v, %v; want the party", ps, err)
	}
	if ps, _ := f.svc.Scheduled(ctx, start.Add(time.Minute), start.Add(time.Hour)); len(ps) != 0 {
		t.Fatalf("Scheduled after the start = %v, want none", ps)
	}
	past := time.Now().Add(-time.Hour)
	if _, err := f.svc.SetSchedule(ctx, p.ID, &past); !errors.Is(err, ErrInvalid) {
		t.Fatalf("past start: err = %v, want ErrInvalid", err)
	}
	if p, err = f.svc.SetSchedule(ctx, p.ID, nil); err != nil || p.StartsAtMs != nil {
		t.Fatalf("clear: %v, %v", p.StartsAtMs, err)
	}
}

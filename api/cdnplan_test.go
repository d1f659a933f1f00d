package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
)

// addShow makes a show with two seasons of two episodes and a special,
// and returns its id and the episodes' ids in watching order (specials
// last).
func (w *world) addShow(title string) (int64, []int64) {
	w.t.Helper()
	ctx := context.Background()
	root := filepath.Join(w.dataDir, "shows")
	if err := os.MkdirAll(root, 0o755); err != nil {
		w.t.Fatal(err)
	}
	lib, err := w.lib.CreateLibrary(ctx, "Shows", root, library.KindShows)
	if err != nil {
		w.t.Fatal(err)
	}
	ins := func(kind string, parent int64, key string, season, ep int) int64 {
		var id int64
		var p any
		if parent != 0 {
			p = parent
		}
		if err := w.db.QueryRow(`INSERT INTO library_items(library_id, parent_id, kind, key, title, season_number, episode_number,
			duration_ms, path, added_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, 600000, ?, 0, 0) RETURNING id`,
			lib.ID, p, kind, key, key, season, ep, filepath.Join(root, key)).Scan(&id); err != nil {
			w.t.Fatal(err)
		}
		return id
	}
	show := ins("show", 0, title, 0, 0)
	var eps []int64
	var specials []int64
	for _, s := range []int{0, 1, 2} {
		season := ins("season", show, fmt.Sprintf("%s/S%d", title, s), s, 0)
		n := 2
		if s == 0 {
			n = 1
		}
		for e := 1; e <= n; e++ {
			id := ins("episode", season, fmt.Sprintf("%s/S%dE%d.mkv", title, s, e), s, e)
			if s == 0 {
				specials = append(specials, id)
			} else {
				eps = append(eps, id)
			}
		}
	}
	return show, append(eps, specials...)
}

func TestPlanCatalogNext(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, eps := w.addShow("Show")
	_, film := w.addItem("Film")
	c := PlanCatalog{Lib: w.lib}
	ctx := context.Background()
	for i, ep := range eps {
		next, ok, err := c.Next(ctx, ep)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(eps)-1 && (!ok || next != eps[i+1]) {
			t.Errorf("after episode %d: %d %v, want %d", i, next, ok, eps[i+1])
		}
		if i == len(eps)-1 && ok {
			t.Errorf("after the last episode: %d, want none", next)
		}
	}
	if next, ok, err := c.Next(ctx, film); ok || err != nil {
		t.Errorf("after a film: %d %v %v, want none (no collections)", next, ok, err)
	}
}

func TestPlanSchedulesUpcoming(t *testing.T) {
	w := newWorld(t, worldOpts{})
	show, eps := w.addShow("Show")
	host, hu := w.user("host", auth.RoleAdmin)
	start := time.Now().Add(5 * time.Minute).Truncate(time.Millisecond)
	var pv partyView
	// A party queued with the show warms its first episode.
	host.must(201, "POST", "/api/parties", map[string]any{"title": "Marathon", "startsAtMs": start.UnixMilli(), "itemId": show}, &pv)
	host.must(201, "POST", "/api/parties", map[string]any{"title": "Unscheduled", "itemId": eps[0]}, nil)
	ps, err := PlanSchedules{Parties: w.parties, Lib: w.lib}.Upcoming(context.Background(), time.Now(), time.Now().Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != pv.ID || !ps[0].StartsAt.Equal(start) || ps[0].FirstItem != eps[0] ||
		fmt.Sprint(ps[0].Members) != fmt.Sprint([]int64{hu.ID}) {
		t.Fatalf("upcoming = %+v, want party %d at %v with item %d and member %d", ps, pv.ID, start, eps[0], hu.ID)
	}
}

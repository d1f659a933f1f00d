package cdnctl

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// fakes of what the planner needs from the registry, index, library and
// parties.

type fakeNodes []PlanNode

func (f fakeNodes) PlanNodes(context.Context) ([]PlanNode, error) { return f, nil }

type fakeViewers map[int64]string // user → node

func (f fakeViewers) NodeFor(_ context.Context, user, _ int64) (string, bool, error) {
	n, ok := f[user]
	return n, ok, nil
}

// fakeManifests gives item i segs segments of 1 MB each plus an init
// segment, in one rendition.
type fakeManifests map[int64]int

func (f fakeManifests) Manifest(_ context.Context, item int64, _ []string) (cdnwire.Manifest, error) {
	segs, ok := f[item]
	if !ok {
		return cdnwire.Manifest{}, fmt.Errorf("no item %d", item)
	}
	m := cdnwire.Manifest{ItemID: item}
	dir := fmt.Sprintf("/api/hls/%d/v1/720p/s/", item)
	m.Objects = append(m.Objects, cdnwire.ManifestObject{Kind: cdnwire.KindSegment, Key: dir + "init.mp4", Bytes: 0, SHA256: "i"},
		cdnwire.ManifestObject{Kind: cdnwire.KindDownload, Key: fmt.Sprintf("/api/downloads/%d/0.mp4", item), Bytes: 0, SHA256: "d"})
	for i := range segs {
		m.Objects = append(m.Objects, cdnwire.ManifestObject{Kind: cdnwire.KindSegment, Key: fmt.Sprintf("%s%d.m4s", dir, i), Bytes: 1 << 20, SHA256: "h"})
	}
	return m, nil
}

type fakeSources struct{}

func (fakeSources) Sources(_ context.Context, node string, o cdnwire.ManifestObject) ([]string, error) {
	return []string{"https://origin.example" + o.Key + "?for=" + node}, nil
}

type fakeCatalog map[int64]int64 // item → next

func (f fakeCatalog) Next(_ context.Context, item int64) (int64, bool, error) {
	n, ok := f[item]
	return n, ok, nil
}

type fakeSchedules []ScheduledParty

func (f fakeSchedules) Upcoming(_ context.Context, from, to time.Time) ([]ScheduledParty, error) {
	var out []ScheduledParty
	for _, p := range f {
		if !p.StartsAt.Before(from) && p.StartsAt.Before(to) {
			out = append(out, p)
		}
	}
	return out, nil
}

type fakePopularity struct{ viewed, added []int64 }

func (f fakePopularity) MostViewed(context.Context, time.Time, int) ([]int64, error) {
	return f.viewed, nil
}
func (f fakePopularity) RecentlyAdded(context.Context, int) ([]int64, error) { return f.added, nil }

var testNodes = fakeNodes{
	{ID: "shared", Mode: cdnwire.ModeShared, State: "up"},
	{ID: "shared2", Mode: cdnwire.ModeShared, State: "up"},
	{ID: "down", Mode: cdnwire.ModeShared, State: "down"},
	{ID: "revoked", Mode: cdnwire.ModeShared, State: "revoked"},
	{ID: "alice-home", Mode: cdnwire.ModeLocal, Owner: 1, State: "up"},
}

// users: 1 alice (her local node), 2 bob (shared), 3 carol (a down node),
// 4 dave (a revoked node), 5 eve (alice's local node: foreign), 6 frank (no node).
var testViewers = fakeViewers{1: "alice-home", 2: "shared", 3: "down", 4: "revoked", 5: "alice-home"}

func newTestPlanner(t *testing.T, mut func(*PlannerParams)) (*Planner, *Tasks) {
	t.Helper()
	q := NewTasks()
	p := PlannerParams{Config: PlannerConfig{HeadMinutes: 1, SegmentSeconds: 4}, Tasks: q, Nodes: testNodes,
		Manifests: fakeManifests{1: 40, 2: 40, 3: 10, 10: 5, 11: 5, 12: 5, 13: 5},
		Sources:   fakeSources{}, Viewers: testViewers, Catalog: fakeCatalog{1: 2, 2: 3}}
	if mut != nil {
		mut(&p)
	}
	pl, err := NewPlanner(p)
	if err != nil {
		t.Fatal(err)
	}
	return pl, q
}

// summary describes a node's pending tasks as "kind item segments", sorted.
func summary(ts []cdnwire.Task) []string {
	var out []string
	for _, t := range ts {
		segs := 0
		for _, o := range t.Objects {
			if strings.HasSuffix(o.Key, ".m4s") {
				segs++
			}
		}
		out = append(out, fmt.Sprintf("%s %d %d", t.Kind, t.ItemID, segs))
	}
	sort.Strings(out)
	return out
}

func TestPrefetchNextEpisode(t *testing.T) {
	nodes := []string{"shared", "shared2", "down", "revoked", "alice-home"}
	for _, c := range []struct {
		name      string
		user      int64
		item      int64
		pos, dur  float64
		wantNode  string
		wantTasks []string
	}{
		// One minute of 4 s segments is 15 segments.
		{"start of episode 1: head of episode 2", 2, 1, 0, 1000, "shared", []string{"prefetch 2 15"}},
		{"past 80%: head and rest", 2, 1, 800, 1000, "shared", []string{"prefetch 2 15", "prefetch 2 25"}},
		{"below 80%: head only", 2, 1, 799, 1000, "shared", []string{"prefetch 2 15"}},
		{"the owner's local node", 1, 2, 0, 1000, "alice-home", []string{"prefetch 3 10"}},
		{"rest of a short episode is nothing", 1, 2, 900, 1000, "alice-home", []string{"prefetch 3 10"}},
		{"no next item", 2, 3, 900, 1000, "", nil},
		{"down node", 3, 1, 0, 1000, "", nil},
		{"revoked node", 4, 1, 0, 1000, "", nil},
		{"someone else's local node", 5, 1, 0, 1000, "", nil},
		{"no node", 6, 1, 0, 1000, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			pl, q := newTestPlanner(t, nil)
			if err := pl.Progress(context.Background(), c.user, c.item, c.pos, c.dur); err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				got := summary(q.Take(n))
				var want []string
				if n == c.wantNode {
					want = c.wantTasks
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("node %s: tasks %v, want %v", n, got, want)
				}
			}
		})
	}
}

func TestPrefetchSentOncePerStage(t *testing.T) {
	pl, q := newTestPlanner(t, nil)
	ctx := context.Background()
	for _, pos := range []float64{0, 100, 200} { // saves every few seconds
		if err := pl.Progress(ctx, 2, 1, pos, 1000); err != nil {
			t.Fatal(err)
		}
	}
	if got := summary(q.Take("shared")); fmt.Sprint(got) != "[prefetch 2 15]" {
		t.Fatalf("after three saves below 80%%: %v, want the head once", got)
	}
	for _, pos := range []float64{810, 900} {
		if err := pl.Progress(ctx, 2, 1, pos, 1000); err != nil {
			t.Fatal(err)
		}
	}
	if got := summary(q.Take("shared")); fmt.Sprint(got) != "[prefetch 2 25]" {
		t.Fatalf("after passing 80%%: %v, want the rest once", got)
	}
	ts := q.Take("shared")
	if len(ts) != 0 {
		t.Fatalf("left over: %v", summary(ts))
	}
}

func TestPrefetchTaskSources(t *testing.T) {
	pl, q := newTestPlanner(t, nil)
	if err := pl.Progress(context.Background(), 2, 1, 0, 1000); err != nil {
		t.Fatal(err)
	}
	ts := q.Take("shared")
	if len(ts) != 1 {
		t.Fatalf("%d tasks, want 1", len(ts))
	}
	for _, o := range ts[0].Objects {
		if strings.HasPrefix(o.Key, "/api/downloads/") {
			t.Fatalf("a prefetch fetches the download file %s", o.Key)
		}
	}
	if len(ts) != 1 || ts[0].Objects[0].Sources[0] != "https://origin.example/api/hls/2/v1/720p/s/init.mp4?for=shared" ||
		ts[0].Objects[0].SHA256 != "i" || ts[0].KeepUntil != nil {
		t.Fatalf("task = %+v", ts)
	}
}

func TestWarmUp(t *testing.T) {
	now := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	parties := fakeSchedules{
		// Starts in 5 min: bob's shared node and alice's own node; carol's
		// node is down, eve may not use alice's, frank has none.
		{ID: 1, StartsAt: now.Add(5 * time.Minute), FirstItem: 1, Members: []int64{1, 2, 3, 4, 5, 6}},
		// Starts in an hour: too early.
		{ID: 2, StartsAt: now.Add(time.Hour), FirstItem: 2, Members: []int64{2}},
		// Nothing queued.
		{ID: 3, StartsAt: now.Add(time.Minute), Members: []int64{2}},
	}
	pl, q := newTestPlanner(t, func(p *PlannerParams) { p.Schedules = parties; p.Config.WarmLead = 10 * time.Minute })
	ctx := context.Background()
	if err := pl.WarmUp(ctx, now); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"shared": "[prefetch 1 15]", "alice-home": "[prefetch 1 15]"}
	for _, n := range []string{"shared", "shared2", "down", "revoked", "alice-home"} {
		got := fmt.Sprint(summary(q.Take(n)))
		if w, ok := want[n]; (ok && got != w) || (!ok && got != "[]") {
			t.Errorf("node %s: %s, want %q", n, got, w)
		}
	}
	// The next round does not send it again; an hour later party 2 is due.
	if err := pl.WarmUp(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ts := q.Take("shared"); len(ts) != 0 {
		t.Fatalf("warm-up sent twice: %v", summary(ts))
	}
	if err := pl.WarmUp(ctx, now.Add(55*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(summary(q.Take("shared"))); got != "[prefetch 2 15]" {
		t.Fatalf("party 2 warm-up: %s", got)
	}
}

// TestPlannerObserve hands a progress save to the running loop, which
// prefetches the next episode on the viewer's node.
func TestPlannerObserve(t *testing.T) {
	pl, q := newTestPlanner(t, nil)
	pl.Start()
	defer pl.Close()
	pl.Observe(2, 1, 0, 1000)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ts := q.Take("shared"); len(ts) > 0 {
			if got := fmt.Sprint(summary(ts)); got != "[prefetch 2 15]" {
				t.Fatalf("tasks %s", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no prefetch task after Observe")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package cdnctl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// items 10..13 are 5 MB each, 1 and 2 are 40 MB, 3 is 10 MB (fakeManifests).

func TestBalance(t *testing.T) {
	for _, c := range []struct {
		name   string
		pop    fakePopularity
		budget int64
		max    int64 // the shared nodes' MaxBytes
		want   string
	}{
		{"both strategies interleaved, within the budget", fakePopularity{viewed: []int64{10, 11}, added: []int64{12, 13}}, 15 << 20, 0, "[10 12 11]"},
		{"a big item is skipped, smaller ones fill the room", fakePopularity{viewed: []int64{1, 10}, added: []int64{3}}, 16 << 20, 0, "[3 10]"},
		{"repeats counted once", fakePopularity{viewed: []int64{10, 11}, added: []int64{10, 11}}, 100 << 20, 0, "[10 11]"},
		{"the node's own size caps the budget", fakePopularity{viewed: []int64{10, 11, 12}}, 100 << 20, 10 << 20, "[10 11]"},
		{"nothing fits", fakePopularity{viewed: []int64{1}}, 1 << 20, 0, "[]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			nodes := fakeNodes{}
			for _, n := range testNodes {
				if n.Mode == cdnwire.ModeShared {
					n.MaxBytes = c.max
				}
				nodes = append(nodes, n)
			}
			pl, q := newTestPlanner(t, func(p *PlannerParams) {
				p.Popularity, p.Nodes, p.Config.NodeBudget = c.pop, nodes, c.budget
			})
			now := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
			if err := pl.Balance(context.Background(), now); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"shared", "shared2", "down", "revoked", "alice-home"} {
				ts := q.Take(n)
				var items []int64
				var bytes int64
				for _, task := range ts {
					items = append(items, task.ItemID)
					if task.Kind != cdnwire.TaskReplicate || task.KeepUntil == nil || !task.KeepUntil.Equal(now.Add(DefaultPlannerConfig().MinLifetime)) {
						t.Errorf("node %s: task %s kind %s keep %v", n, task.ID, task.Kind, task.KeepUntil)
					}
					for _, o := range task.Objects {
						bytes += o.Bytes
					}
				}
				want := "[]"
				if n == "shared" || n == "shared2" {
					want = c.want
				}
				if got := fmt.Sprint(items); got != want && !(got == "[]" && want == "[]") {
					t.Errorf("node %s: items %s, want %s", n, got, want)
				}
				if bytes > c.budget || (c.max > 0 && bytes > c.max) {
					t.Errorf("node %s: %d bytes over the budget", n, bytes)
				}
			}
		})
	}
}

// TestBalanceMinimumLifetime keeps a copy that falls out of the top for
// its minimum lifetime, holding its room, and replaces it afterwards.
func TestBalanceMinimumLifetime(t *testing.T) {
	pop := &fakePopularity{viewed: []int64{10, 11}}
	pl, q := newTestPlanner(t, func(p *PlannerParams) {
		p.Popularity, p.Nodes = popularity{pop}, fakeNodes{{ID: "shared", Mode: cdnwire.ModeShared, State: "up"}}
		p.Config.NodeBudget, p.Config.MinLifetime = 10<<20, 48*time.Hour
	})
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	round := func(at time.Time) string {
		t.Helper()
		if err := pl.Balance(ctx, at); err != nil {
			t.Fatal(err)
		}
		var items []int64
		for _, task := range q.Take("shared") {
			items = append(items, task.ItemID)
		}
		return fmt.Sprint(items)
	}
	if got := round(now); got != "[10 11]" {
		t.Fatalf("first round: %s", got)
	}
	if got := round(now.Add(time.Hour)); got != "[]" {
		t.Fatalf("unchanged top: %s, want no new task", got)
	}
	pop.viewed = []int64{12, 13} // 10 and 11 drop out of the top
	if got := round(now.Add(47 * time.Hour)); got != "[]" {
		t.Fatalf("within the minimum lifetime: %s, want the old copies kept (budget full)", got)
	}
	if got := round(now.Add(48 * time.Hour)); got != "[12 13]" {
		t.Fatalf("after the minimum lifetime: %s, want the new top", got)
	}
}

// popularity reads a fakePopularity that the test changes between rounds.
type popularity struct{ p *fakePopularity }

func (f popularity) MostViewed(ctx context.Context, since time.Time, n int) ([]int64, error) {
	return f.p.MostViewed(ctx, since, n)
}
func (f popularity) RecentlyAdded(ctx context.Context, n int) ([]int64, error) {
	return f.p.RecentlyAdded(ctx, n)
}

// TestPlannerCloseStopsLoop starts the owner goroutine, waits for a round
// and closes it.
func TestPlannerCloseStopsLoop(t *testing.T) {
	ran := make(chan struct{}, 1)
	pl, _ := newTestPlanner(t, func(p *PlannerParams) {
		p.Popularity = signalPopularity{ran}
		p.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
	pl.Start()
	<-ran
	pl.Close()
	pl.Close() // twice is fine
}

type signalPopularity struct{ ran chan struct{} }

func (s signalPopularity) MostViewed(context.Context, time.Time, int) ([]int64, error) {
	select {
	case s.ran <- struct{}{}:
	default:
	}
	return nil, nil
}
func (signalPopularity) RecentlyAdded(context.Context, int) ([]int64, error) { return nil, nil }

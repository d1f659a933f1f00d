package cdnctl

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

func node(id, mode, owner, state string, load float64) cdnwire.NodeInfo {
	return cdnwire.NodeInfo{ID: id, Name: id, Mode: mode, Owner: owner, State: state, Health: cdnwire.Health{Load1: load}}
}

func ids(ns []cdnwire.NodeInfo) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// hrwOrder returns a and b in their rendezvous order for item.
func hrwOrder(a, b string, item int64) []string {
	if hrw(a, item) > hrw(b, item) {
		return []string{a, b}
	}
	return []string{b, a}
}

func TestRankNodes(t *testing.T) {
	const sh, lo = cdnwire.ModeShared, cdnwire.ModeLocal
	alice := Viewer{UserID: 1, Username: "alice"}
	for _, tc := range []struct {
		name   string
		nodes  []cdnwire.NodeInfo
		held   map[string]int64
		chosen string
		v      Viewer
		want   []string
	}{
		{"explicit choice wins over holdings and load", []cdnwire.NodeInfo{node("a", sh, "", "up", 0), node("b", sh, "", "up", 9)},
			map[string]int64{"a": 100}, "b", alice, []string{"b", "a"}},
		{"a down choice is skipped", []cdnwire.NodeInfo{node("a", sh, "", "up", 0), node("b", sh, "", "down", 0)},
			nil, "b", alice, []string{"a"}},
		{"holders first, most held first", []cdnwire.NodeInfo{node("a", sh, "", "up", 0), node("b", sh, "", "up", 5), node("c", sh, "", "up", 5)},
			map[string]int64{"b": 10, "c": 20}, "", alice, []string{"c", "b", "a"}},
		{"then least loaded", []cdnwire.NodeInfo{node("a", sh, "", "up", 3), node("b", sh, "", "up", 0.2)},
			nil, "", alice, []string{"b", "a"}},
		{"equal load: rendezvous hashing", []cdnwire.NodeInfo{node("a", sh, "", "up", 0.1), node("b", sh, "", "up", 0.2)},
			nil, "", alice, hrwOrder("a", "b", 42)},
		{"down and revoked never", []cdnwire.NodeInfo{node("a", sh, "", "down", 0), node("b", sh, "", "revoked", 0), node("c", sh, "", "up", 9)},
			map[string]int64{"a": 1, "b": 1}, "", alice, []string{"c"}},
		{"a local node serves its owner", []cdnwire.NodeInfo{node("home", lo, "alice", "up", 0)}, nil, "", alice, []string{"home"}},
		{"and no one else", []cdnwire.NodeInfo{node("home", lo, "bob", "up", 0), node("s", sh, "", "up", 0)}, nil, "home", alice, []string{"s"}},
		{"nor a guest without a name", []cdnwire.NodeInfo{node("home", lo, "", "up", 0)}, nil, "", Viewer{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(rank(tc.nodes, tc.held, tc.chosen, tc.v, 42)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("rank = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRendezvousAffinity checks the two properties HRW is used for: items
// spread over equal nodes, and losing a node moves only its own items.
func TestRendezvousAffinity(t *testing.T) {
	all := []cdnwire.NodeInfo{node("a", "shared", "", "up", 0), node("b", "shared", "", "up", 0), node("c", "shared", "", "up", 0)}
	count := map[string]int{}
	for item := int64(1); item <= 3000; item++ {
		first := rank(all, nil, "", Viewer{}, item)[0].ID
		count[first]++
		without := rank([]cdnwire.NodeInfo{all[0], all[1]}, nil, "", Viewer{}, item)[0].ID
		if first != "c" && without != first {
			t.Fatalf("item %d moved from %s to %s when c left", item, first, without)
		}
	}
	for id, n := range count {
		if n < 800 || n > 1200 {
			t.Fatalf("node %s got %d of 3000 items: %v", id, n, count)
		}
	}
}

type fakeLister []cdnwire.NodeInfo

func (f fakeLister) List(context.Context) ([]cdnwire.NodeInfo, error) { return f, nil }

func TestChooserPicksAndOptions(t *testing.T) {
	ctx := context.Background()
	db := ixDB(t)
	if _, err := db.Exec(`INSERT INTO users (id, username, display_name, role, created_at) VALUES (1, 'alice', 'Alice', 'member', 0)`); err != nil {
		t.Fatal(err)
	}
	x := NewSQLiteIndex(db)
	c := &Chooser{Nodes: fakeLister{node("a", "shared", "", "up", 0), node("b", "shared", "", "up", 0),
		node("home", "local", "bob", "up", 0), node("gone", "shared", "", "revoked", 0)}, Index: x, Choices: NewSQLiteChoices(db)}
	alice := Viewer{UserID: 1, Username: "alice"}
	for _, id := range []string{"home", "gone", "nope"} {
		if err := c.Pick(ctx, alice, id); !errors.Is(err, ErrNodeNotAllowed) {
			t.Fatalf("pick %s: %v", id, err)
		}
	}
	if err := x.Apply(ctx, "a", true, []cdnwire.ObjectRef{segs("/api/hls/5/v/720p/s/", 5, 0, 9, 500)}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Choose(ctx, alice, 5, 0); !reflect.DeepEqual(ids(got), []string{"a", "b"}) {
		t.Fatalf("holder first: %v", ids(got))
	}
	if err := c.Pick(ctx, alice, "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Choose(ctx, alice, 5, 1); !reflect.DeepEqual(ids(got), []string{"b"}) {
		t.Fatalf("after picking b: %v", ids(got))
	}
	opts, err := c.Options(ctx, alice, 5, 1000)
	if err != nil || !reflect.DeepEqual(ids(opts), []string{"a", "b"}) || *opts[0].HasItem != 0.5 || *opts[1].HasItem != 0 {
		t.Fatalf("options %v %v", ids(opts), err)
	}
	if err := c.Pick(ctx, alice, ""); err != nil {
		t.Fatal(err)
	}
	if ch, _ := c.Choices.Choice(ctx, 1); ch != "" {
		t.Fatalf("choice after clearing: %q", ch)
	}
}

func TestNodeURLsOnlyForNodesThatAreUp(t *testing.T) {
	a, d := node("a", "shared", "", "up", 0), node("d", "shared", "", "down", 0)
	a.PublicURL, d.PublicURL = "https://a.example", "https://d.example"
	u := NodeURLs{Nodes: fakeLister{a, d}}
	if got, err := u.NodeURL(context.Background(), "a"); err != nil || got != "https://a.example" {
		t.Fatalf("a: %q %v", got, err)
	}
	for _, id := range []string{"d", "x"} {
		if _, err := u.NodeURL(context.Background(), id); err == nil {
			t.Fatalf("%s has a URL", id)
		}
	}
}

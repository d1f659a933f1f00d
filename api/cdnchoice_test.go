package api

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

// testNodes stands in for the registry: two shared nodes, bob's local one,
// a revoked one.
type testNodes struct{}

func (testNodes) List(context.Context) ([]cdnwire.NodeInfo, error) {
	return []cdnwire.NodeInfo{
		{ID: "n1", Name: "paris", Mode: cdnwire.ModeShared, State: "up"},
		{ID: "n2", Name: "lyon", Mode: cdnwire.ModeShared, State: "up"},
		{ID: "home", Name: "home", Mode: cdnwire.ModeLocal, Owner: "bob", State: "up"},
		{ID: "old", Name: "old", Mode: cdnwire.ModeShared, State: "revoked"},
	}, nil
}

// testChooser is a real cdnctl.Chooser on the world's database.
func testChooser(db *sql.DB) *cdnctl.Chooser {
	return &cdnctl.Chooser{Nodes: testNodes{}, Index: cdnctl.NewSQLiteIndex(db), Choices: cdnctl.NewSQLiteChoices(db)}
}

func TestCDNNodePicker(t *testing.T) {
	w := newWorld(t, worldOpts{})
	alice, au := w.user("alice", auth.RoleMember)
	var out cdnChoiceOut
	alice.must(200, "GET", "/api/me/cdn-node", nil, &out)
	if out.NodeID != "" || len(out.Nodes) != 2 || out.Nodes[0].ID != "n1" || out.Nodes[1].ID != "n2" {
		t.Fatalf("picker before a choice: %+v (bob's local node and revoked nodes must not show)", out)
	}
	for _, id := range []string{"home", "old", "nope"} {
		r := alice.do("PUT", "/api/me/cdn-node", map[string]any{"nodeId": id})
		if r.status != 400 || !strings.Contains(string(r.body), "node_not_allowed") {
			t.Fatalf("pick %s: %d %s", id, r.status, r.body)
		}
	}
	alice.must(200, "PUT", "/api/me/cdn-node", map[string]any{"nodeId": "n2"}, &out)
	if out.NodeID != "n2" {
		t.Fatalf("after picking n2: %+v", out)
	}
	if r := alice.do("PUT", "/api/me/cdn-node", map[string]any{}); r.status != 400 {
		t.Fatalf("no nodeId: %d", r.status)
	}
	// The choice leads the master playlist's candidates.
	w.srv.p.HLS = fakeVia{}
	if got := w.srv.hlsMasterURL(context.Background(), &caller{user: au}, 7); got != "via 7 [n2 n1]" && got != "via 7 [n2]" {
		t.Fatalf("master URL %q, want n2 first", got)
	}
	alice.must(200, "PUT", "/api/me/cdn-node", map[string]any{"nodeId": ""}, &out)
	if out.NodeID != "" {
		t.Fatalf("after clearing: %+v", out)
	}
}

type fakeVia struct{}

func (fakeVia) MasterURL(id int64) string { return fmt.Sprint("plain ", id) }
func (fakeVia) MasterURLVia(id int64, nodes []string) string {
	return fmt.Sprint("via ", id, " ", nodes)
}

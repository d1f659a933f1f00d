package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

const testNodePSK = "the operator's node pre-shared key"

// registerNode runs a node's registration over HTTP with psk.
func registerNode(w *world, psk, name string) resp {
	w.t.Helper()
	c := w.browser()
	var ch cdnwire.Challenge
	c.must(200, "POST", cdnwire.ChallengePath, cdnwire.ChallengeRequest{Name: name}, &ch)
	req := cdnwire.RegisterRequest{ChallengeID: ch.ID, Name: name, Mode: cdnwire.ModeShared, PublicURL: "http://10.77.0.2:8081"}
	req.Proof = cdnwire.Proof([]byte(psk), ch.Nonce, req.Name, req.Mode, req.Owner, req.PublicURL)
	return c.do("POST", cdnwire.RegisterPath, req)
}

// TestCDNNodeRegistration: a node with the right key registers and fetches
// origin misses with its own credential; a wrong key and a replayed
// challenge are refused; an admin lists, renames and revokes it, and the
// revoked credential is refused on the next request with cdn_node_revoked.
func TestCDNNodeRegistration(t *testing.T) {
	w := newWorld(t, worldOpts{nodePSK: testNodePSK})
	admin, _ := w.user("root", auth.RoleAdmin)
	member, _ := w.user("mia", auth.RoleMember)
	_, item := w.addItem("Edge")

	if r := registerNode(w, "not the operator's key", "edge1"); r.status != 401 || r.code() != "cdn_bad_proof" {
		t.Fatalf("wrong key: %d %s", r.status, r.body)
	}
	// A replayed challenge: the same request twice.
	c := w.browser()
	var ch cdnwire.Challenge
	c.must(200, "POST", cdnwire.ChallengePath, nil, &ch)
	req := cdnwire.RegisterRequest{ChallengeID: ch.ID, Name: "edge0", Mode: cdnwire.ModeShared, PublicURL: "http://10.77.0.3:8081"}
	req.Proof = cdnwire.Proof([]byte(testNodePSK), ch.Nonce, req.Name, req.Mode, req.Owner, req.PublicURL)
	c.must(200, "POST", cdnwire.RegisterPath, req, nil)
	if r := c.do("POST", cdnwire.RegisterPath, req); r.status != 401 || r.code() != "cdn_bad_proof" {
		t.Fatalf("replayed challenge: %d %s", r.status, r.body)
	}

	r := registerNode(w, testNodePSK, "edge1")
	if r.status != 200 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	var reg cdnwire.Registration
	r.json(t, &reg)
	f, err := w.lib.PosterFile(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	_ = f.Close()
	origin := fmt.Sprintf("/api/posters/%d/%s", item, posterVersion(st))
	node := w.bot(reg.Credential)
	node.must(200, "GET", origin, nil, nil)

	var list struct{ Nodes []cdnwire.NodeInfo }
	if r := member.do("GET", "/api/admin/cdn/nodes", nil); r.status != http.StatusForbidden {
		t.Fatalf("member lists nodes: %d", r.status)
	}
	admin.must(200, "GET", "/api/admin/cdn/nodes", nil, &list)
	if len(list.Nodes) != 2 || list.Nodes[0].ID != reg.NodeID || list.Nodes[0].State != "up" {
		t.Fatalf("nodes: %+v", list.Nodes)
	}
	admin.must(204, "PATCH", "/api/admin/cdn/nodes/"+reg.NodeID, map[string]string{"name": "paris"}, nil)
	if r := admin.do("PATCH", "/api/admin/cdn/nodes/"+reg.NodeID, map[string]string{"name": "Not A Label"}); r.status != 400 || r.code() != "cdn_bad_node" {
		t.Fatalf("bad name: %d %s", r.status, r.body)
	}
	admin.must(204, "POST", "/api/admin/cdn/nodes/"+reg.NodeID+"/revoke", nil, nil)
	if r := node.do("GET", origin, nil); r.status != 401 || r.code() != "cdn_node_revoked" {
		t.Fatalf("revoked node's origin fetch: %d %s", r.status, r.body)
	}
	admin.must(200, "GET", "/api/admin/cdn/nodes", nil, &list)
	if list.Nodes[0].Name != "paris" || list.Nodes[0].State != "revoked" {
		t.Fatalf("after revoke: %+v", list.Nodes[0])
	}
	if r := admin.do("POST", "/api/admin/cdn/nodes/nope/revoke", nil); r.status != 404 {
		t.Fatalf("revoke unknown: %d", r.status)
	}
}

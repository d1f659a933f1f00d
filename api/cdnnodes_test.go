package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
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

// TestCDNNodeRegistersOnStart runs the node's side (cdn.Register) against
// the API: the registration is stored 0600 in the data dir and reused on
// restart; a node with its credential and URL key serves a viewer URL the
// API signs for it (SignerFor), fetching the miss with its credential; a
// wrong key is refused; once revoked, the restarting node stops with
// cdn.ErrRevoked.
func TestCDNNodeRegistersOnStart(t *testing.T) {
	w := newWorld(t, worldOpts{nodePSK: testNodePSK})
	_, item := w.addItem("Edge")
	ctx := context.Background()
	origin, _ := url.Parse(w.http.URL)
	dir := t.TempDir()
	rp := cdn.RegisterParams{Origin: origin, PSK: []byte(testNodePSK), Name: "edge1", Mode: cdnwire.ModeShared,
		PublicURL: "http://10.77.0.2:8081", DataDir: dir}
	bad := rp
	bad.PSK, bad.DataDir = []byte("a key that is not the operator's"), t.TempDir()
	if _, err := cdn.Register(ctx, bad); !errors.Is(err, cdn.ErrRefused) || !strings.Contains(err.Error(), "cdn_bad_proof") {
		t.Fatalf("wrong key: %v", err)
	}
	reg, err := cdn.Register(ctx, rp)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, cdn.RegistrationFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stored registration: %v %v", st, err)
	}
	again, err := cdn.Register(ctx, rp)
	if err != nil || again != reg {
		t.Fatalf("restart did not reuse the registration: %+v %v", again, err)
	}

	// The node, as cmd/cdn starts it after registering.
	signer, err := cdn.NewSigner([]byte(reg.URLKey))
	if err != nil {
		t.Fatal(err)
	}
	node, err := cdn.New(cdn.Params{Origin: origin, OriginToken: reg.Credential, Signer: signer,
		CacheDir: filepath.Join(dir, "cache"), MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	edge := httptest.NewServer(node)
	defer edge.Close()
	f, err := w.lib.PosterFile(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	fst, _ := f.Stat()
	_ = f.Close()
	path := fmt.Sprintf("/api/posters/%d/%s", item, posterVersion(fst))
	apiSigner, err := w.srv.p.CDNNodes.(*cdnctl.Registry).SignerFor(reg.NodeID)
	if err != nil {
		t.Fatal(err)
	}
	viewer := w.browser()
	res, err := viewer.hc.Get(edge.URL + apiSigner.Sign(path, time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "\xff\xd8\xff\xe0JPEGDATA-Edge" {
		t.Fatalf("viewer via the registered node: %d %q", res.StatusCode, body)
	}
	// A URL signed for another node does not open this one.
	otherSigner, _ := w.srv.p.CDNNodes.(*cdnctl.Registry).SignerFor("nother")
	if res, err := viewer.hc.Get(edge.URL + otherSigner.Sign(path, time.Now().Add(time.Hour))); err != nil || res.StatusCode == 200 {
		t.Fatalf("URL signed for another node: %v %v", res.StatusCode, err)
	}

	if err := w.srv.p.CDNNodes.Revoke(ctx, reg.NodeID); err != nil {
		t.Fatal(err)
	}
	if _, err := cdn.Register(ctx, rp); !errors.Is(err, cdn.ErrRevoked) {
		t.Fatalf("revoked node restarting: %v", err)
	}
}

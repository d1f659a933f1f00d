package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/store"
)

// netNode is a real CDN node in the test process, registered with the app.
type netNode struct {
	id   string
	base string
	node *cdn.Node
}

// startNetNode registers a node named name with the app by HMAC challenge
// (the --dev pre-shared key), then serves it with one-second heartbeats
// and its task runner, as cmd/cdn does.
func startNetNode(t *testing.T, va *vodApp, name string) *netNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	origin, _ := url.Parse(va.base)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg, err := cdn.Register(ctx, cdn.RegisterParams{Origin: origin, PSK: []byte(cdn.DevNodePSK), Name: name,
		Mode: cdnwire.ModeShared, PublicURL: base, DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	signer, err := cdn.NewSigner([]byte(reg.URLKey))
	if err != nil {
		t.Fatal(err)
	}
	node, err := cdn.New(cdn.Params{Origin: origin, OriginToken: reg.Credential, Signer: signer, CacheDir: filepath.Join(dir, "cache"),
		MaxBytes: 1 << 30, Prefixes: cdn.DefaultPrefixes, NodeID: reg.NodeID, Credential: reg.Credential, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tasks := node.StartTasks()
	hb, err := node.StartHeartbeatWith(tasks)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: node}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { hb.Close(); tasks.Close(); _ = srv.Close() })
	return &netNode{id: reg.NodeID, base: base, node: node}
}

// waitFor polls cond every 100 ms for up to 30 s (several heartbeats).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

// TestCDNNetworkThroughTheApp: two nodes register with the real app and
// heartbeat (the admin list shows them up, with their disks); a viewer's
// master playlist goes through the nodes before the origin; a segment a
// viewer pulled through node A reaches the global index, and a
// replication asked of node B takes that segment from A (a peer) and the
// rest from the origin, each checked against the manifest's SHA-256.
func TestCDNNetworkThroughTheApp(t *testing.T) {
	va := startVODApp(t, nil)
	id := va.itemID()
	a, b := startNetNode(t, va, "edge-a"), startNetNode(t, va, "edge-b")

	var nodes []cdnwire.NodeInfo
	waitFor(t, "both nodes up with their disks reported", func() bool {
		_, _, body := va.get(va.admin, "/api/admin/cdn/nodes")
		var out struct{ Nodes []cdnwire.NodeInfo }
		if json.Unmarshal(body, &out) != nil {
			_ = json.Unmarshal(body, &out.Nodes)
		}
		nodes = out.Nodes
		up := 0
		for _, n := range nodes {
			if n.State == "up" && n.Capacity.MaxBytes == 1<<30 && !n.LastSeen.IsZero() {
				up++
			}
		}
		return up == 2
	})

	var hls struct{ URL string }
	_, _, body := va.get(va.admin, fmt.Sprintf("/api/items/%d/hls", id))
	if err := json.Unmarshal(body, &hls); err != nil || hls.URL == "" {
		t.Fatalf("hls url: %s", body)
	}
	_, _, master := va.get(va.admin, hls.URL)
	variants := playlistURIs(master)
	var viaA string
	for _, v := range variants {
		if strings.Contains(v, "/240p/") && strings.Contains(v, a.id) {
			viaA = v
		}
	}
	if viaA == "" || !strings.Contains(string(master), "/240p/index.m3u8") {
		t.Fatalf("master lists no 240p variant through node A (%s) before the origin:\n%s", a.id, master)
	}
	// The viewer plays segment 0 of 240p through node A.
	st, _, media := va.get(va.admin, viaA)
	if st != 200 {
		t.Fatalf("node A's media playlist: %d %s", st, media)
	}
	objs := playlistURIs(media)
	if len(objs) < 3 || !strings.HasPrefix(objs[1], a.base) {
		t.Fatalf("segments of A's media playlist are not on node A (%s): %v", a.base, objs)
	}
	viewer := &http.Client{Timeout: time.Minute}
	for _, u := range objs[:2] { // the init segment and segment 0
		if st, _, body := va.get(viewer, u); st != 200 || len(body) == 0 {
			t.Fatalf("GET %s through node A: %d", u, st)
		}
	}
	seg0 := strings.SplitN(strings.TrimPrefix(objs[1], a.base), "?", 2)[0]

	// Node A's next heartbeat puts segment 0 in the global index.
	db, err := store.OpenRaw(filepath.Join(va.dir, "marquee.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, "segment 0 of node A in the index", func() bool {
		var n int
		_ = db.QueryRow(`SELECT COUNT(*) FROM cdn_objects WHERE node_id = ? AND item_id = ?`, a.id, id).Scan(&n)
		return n > 0
	})
	// B replicates 240p: segment 0 (and the init segment) from A, the
	// rest from the origin.
	va.post(va.admin, "/api/cdn/nodes/"+b.id+"/replicate", map[string]any{"item_id": id, "renditions": []string{"240p"}}, http.StatusAccepted)
	var viaB string
	for _, v := range variants {
		if strings.Contains(v, "/240p/") && strings.Contains(v, b.id) {
			viaB = v
		}
	}
	_, _, mediaB := va.get(va.admin, viaB)
	objsB := playlistURIs(mediaB)
	waitFor(t, "node B holds every 240p object", func() bool {
		peer, origin := b.node.ReplicatedBytes()
		return peer > 0 && origin > 0 && len(b.node.Fetching()) == 0
	})
	for _, u := range objsB {
		resp, err := viewer.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "HIT" {
			t.Fatalf("GET %s from node B after replication: %d X-Cache=%q, want a 200 HIT", u, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	peer, origin := b.node.ReplicatedBytes()
	t.Logf("node B replicated %d bytes from node A and %d from the origin (segment 0 is %s)", peer, origin, seg0)
}

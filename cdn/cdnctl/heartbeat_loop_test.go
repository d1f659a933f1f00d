package cdnctl_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/store"
)

type loopAuth struct{}

func (loopAuth) Authenticate(_ context.Context, cred string) (string, error) {
	if cred == "cred-n1" {
		return "n1", nil
	}
	return "", errors.New("unknown")
}

// TestNodeHeartbeatsReachTheIndex runs a real node (package cdn) against a
// loopback control plane with the real handler and SQLite index: what the
// node caches shows up in the index, and once the node stops, a sweep
// three periods later marks it down.
func TestNodeHeartbeatsReachTheIndex(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "m.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS cdn_nodes (id TEXT PRIMARY KEY, name TEXT NOT NULL, mode TEXT NOT NULL,
		owner_user_id INTEGER, public_url TEXT NOT NULL, dns_name TEXT NOT NULL DEFAULT '', credential_hash TEXT NOT NULL UNIQUE,
		state TEXT NOT NULL DEFAULT 'up', created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
		capacity_json TEXT NOT NULL DEFAULT '{}', health_json TEXT NOT NULL DEFAULT '{}', revoked_at INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO cdn_nodes (id, name, mode, public_url, credential_hash, created_at, last_seen)
		VALUES ('n1', 'n1', 'shared', 'http://n1', 'h', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	index := cdnctl.NewSQLiteIndex(db)
	hbs, err := cdnctl.NewHeartbeats(cdnctl.HeartbeatParams{Auth: loopAuth{}, Index: index, Nodes: cdnctl.NewSQLiteNodes(db),
		Tasks: cdnctl.NewTasks(), Every: time.Second, Now: func() time.Time { return clock() }})
	if err != nil {
		t.Fatal(err)
	}
	const seg = "/api/hls/4/v1/720p/s/3.m4s"
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == cdnwire.HeartbeatPath { // what api's route does
			node, err := hbs.Authenticate(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			if err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			var hb cdnwire.Heartbeat
			if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			reply, err := hbs.Handle(r.Context(), node, &hb)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			_ = json.NewEncoder(w).Encode(reply)
			return
		}
		_, _ = w.Write([]byte("segment bytes"))
	}))
	defer origin.Close()
	ou, _ := url.Parse(origin.URL)
	signer, _ := cdn.NewSigner([]byte("loop-test-secret-0123"))
	node, err := cdn.New(cdn.Params{Origin: ou, OriginToken: "tok", CacheDir: t.TempDir(), MaxBytes: 1 << 20, Signer: signer,
		NodeID: "n1", Credential: "cred-n1", Heartbeat: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	edge := httptest.NewServer(node)
	defer edge.Close()
	hb, err := node.StartHeartbeat(nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(edge.URL + signer.Sign(seg, time.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	filled := time.Now()
	for {
		h, err := index.Holders(ctx, seg)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) == 1 && h[0] == "n1" {
			break
		}
		if time.Since(filled) > 20*time.Second {
			t.Fatal("the segment never reached the index")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("cached object in the index %v after the fill (heartbeat every 20ms)", time.Since(filled))
	hb.Close() // the node dies
	now = now.Add(cdnctl.MissedHeartbeats*time.Second + time.Second)
	down, err := hbs.Sweep(ctx)
	if err != nil || len(down) != 1 || down[0] != "n1" {
		t.Fatalf("sweep after 3 missed heartbeats: %v %v", down, err)
	}
}

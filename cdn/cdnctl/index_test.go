package cdnctl

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/internal/store"
)

// ixDB opens a migrated database. Until the registry's migration 0008
// (cdn_nodes) is on this branch, the test creates that table as 0008 does.
func ixDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The shape of 0008_cdn_nodes.sql (branch wt-cdnreg); skipped once it is here.
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS cdn_nodes (
		id TEXT PRIMARY KEY, name TEXT NOT NULL, mode TEXT NOT NULL CHECK (mode IN ('shared', 'local')),
		owner_user_id INTEGER REFERENCES users(id) ON DELETE CASCADE, public_url TEXT NOT NULL,
		dns_name TEXT NOT NULL DEFAULT '', credential_hash TEXT NOT NULL UNIQUE,
		state TEXT NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down', 'revoked')),
		created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL,
		capacity_json TEXT NOT NULL DEFAULT '{}', health_json TEXT NOT NULL DEFAULT '{}', revoked_at INTEGER)`)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func segs(dir string, item int64, first, last int, bytes int64) cdnwire.ObjectRef {
	return cdnwire.ObjectRef{Kind: cdnwire.KindSegment, Key: dir, ItemID: item, First: &first, Last: &last, Bytes: bytes}
}

func ixRuns(t *testing.T, db *sql.DB, node, key string) [][3]int64 {
	t.Helper()
	rows, err := db.Query(`SELECT first, last, bytes FROM cdn_objects WHERE node_id = ? AND key = ? ORDER BY first`, node, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][3]int64
	for rows.Next() {
		var r [3]int64
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestIndexKeepsSegmentRunsAndHolders(t *testing.T) {
	ctx := context.Background()
	db := ixDB(t)
	x := NewSQLiteIndex(db)
	const dir = "/api/hls/7/v1/720p/s/"
	poster := cdnwire.ObjectRef{Kind: cdnwire.KindPoster, Key: "/api/posters/7/w300", ItemID: 7, Bytes: 50}
	steps := []struct {
		name           string
		node           string
		full           bool
		added, evicted []cdnwire.ObjectRef
		want           [][3]int64 // n1's runs of dir
		holders4       []string
		holdings7      map[string]int64
	}{
		{"first run", "n1", true, []cdnwire.ObjectRef{segs(dir, 7, 0, 4, 500), poster}, nil,
			[][3]int64{{0, 4, 500}}, []string{"n1"}, map[string]int64{"n1": 550}},
		{"adjacent run joins", "n1", false, []cdnwire.ObjectRef{segs(dir, 7, 5, 6, 200)}, nil,
			[][3]int64{{0, 6, 700}}, []string{"n1"}, map[string]int64{"n1": 750}},
		{"overlap counts once", "n1", false, []cdnwire.ObjectRef{segs(dir, 7, 6, 7, 200)}, nil,
			[][3]int64{{0, 7, 800}}, []string{"n1"}, map[string]int64{"n1": 850}},
		{"eviction splits", "n1", false, nil, []cdnwire.ObjectRef{segs(dir, 7, 2, 4, 0), poster},
			[][3]int64{{0, 1, 200}, {5, 7, 300}}, nil, map[string]int64{"n1": 500}},
		{"another node", "n2", false, []cdnwire.ObjectRef{segs(dir, 7, 3, 9, 700)}, nil,
			[][3]int64{{0, 1, 200}, {5, 7, 300}}, []string{"n2"}, map[string]int64{"n1": 500, "n2": 700}},
		{"full replaces", "n1", true, []cdnwire.ObjectRef{segs(dir, 7, 4, 4, 100)}, nil,
			[][3]int64{{4, 4, 100}}, []string{"n1", "n2"}, map[string]int64{"n1": 100, "n2": 700}},
	}
	for _, s := range steps {
		if err := x.Apply(ctx, s.node, s.full, s.added, s.evicted); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := ixRuns(t, db, "n1", dir); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("%s: runs %v, want %v", s.name, got, s.want)
		}
		h, err := x.Holders(ctx, dir+"4.m4s")
		if err != nil || !reflect.DeepEqual(h, s.holders4) {
			t.Fatalf("%s: holders of segment 4 %v (%v), want %v", s.name, h, err, s.holders4)
		}
		hs, err := x.Holdings(ctx, 7)
		if err != nil || !reflect.DeepEqual(hs, s.holdings7) {
			t.Fatalf("%s: holdings %v (%v), want %v", s.name, hs, err, s.holdings7)
		}
	}
	bad := -1
	if err := x.Apply(ctx, "n1", false, []cdnwire.ObjectRef{{Key: dir, First: &bad, Last: &bad}}, nil); err == nil {
		t.Fatal("a negative run was accepted")
	}
	if err := x.Forget(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if h, _ := x.Holders(ctx, dir+"8.m4s"); len(h) != 0 {
		t.Fatalf("forgotten node still holds: %v", h)
	}
}

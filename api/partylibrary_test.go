package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// TestCohostSearchesPartyLibraries: a co-host, a guest without library
// access, searches and queues what the party's libraries (its owner's)
// hold, and nothing else; listeners are refused.
func TestCohostSearchesPartyLibraries(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	moviesID, film := w.addItem("Dawn Film")
	_, film2 := w.addItem("Dusk Film")
	// A library the host may not browse.
	if err := os.MkdirAll(filepath.Join(w.dataDir, "private"), 0o755); err != nil {
		t.Fatal(err)
	}
	priv, err := w.lib.CreateLibrary(ctx, "Private", filepath.Join(w.dataDir, "private"), library.KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	var hidden int64
	if err := w.db.QueryRow(`INSERT INTO library_items(library_id, kind, key, title, duration_ms, path, added_at, updated_at)
		VALUES(?, 'movie', 'h.mkv', 'Dawn Hidden', 600000, ?, 0, 0) RETURNING id`, priv.ID, filepath.Join(w.dataDir, "private", "h.mkv")).Scan(&hidden); err != nil {
		t.Fatal(err)
	}
	host, hostUser := w.user("host", auth.RoleMember)
	if err := w.auth.SetLibraryAccess(ctx, hostUser.ID, false, []string{strconv.FormatInt(moviesID, 10)}); err != nil {
		t.Fatal(err)
	}
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": film}, &pv)
	join := func(name string, r party.Role) *client {
		c, u := w.user(name, auth.RoleGuest)
		if _, err := w.parties.Join(ctx, pv.ID, u.ID, r); err != nil {
			t.Fatal(err)
		}
		return c
	}
	co, lis := join("coh", party.RoleCohost), join("lis", party.RoleListener)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)

	// The library's own search is for accounts with library access.
	if r := co.do("GET", "/api/items?q=Dawn", nil); r.status != 403 {
		t.Fatalf("guest co-host on /api/items: %d, want 403", r.status)
	}
	var res struct{ Items []library.Item }
	co.must(200, "GET", base+"/items?q=Dawn&kind=movie,episode,track", nil, &res)
	if len(res.Items) != 1 || res.Items[0].ID != film || res.Items[0].Path != "" {
		t.Fatalf("co-host's search for Dawn = %+v, want only %q without its path", res.Items, "Dawn Film")
	}
	co.must(201, "POST", base+"/queue", map[string]any{"itemId": film2}, nil)
	if r := co.do("POST", base+"/queue", map[string]any{"itemId": hidden}); r.status != 404 {
		t.Fatalf("co-host queueing an item outside the party's libraries: %d %s, want 404", r.status, r.body)
	}
	if r := lis.do("GET", base+"/items?q=Dawn", nil); r.status != 403 {
		t.Fatalf("listener's search: %d, want 403", r.status)
	}
	if r := lis.do("POST", base+"/queue", map[string]any{"itemId": film2}); r.status != 403 {
		t.Fatalf("listener's enqueue: %d, want 403", r.status)
	}
}

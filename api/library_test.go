package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
)

func TestLibraryAccessAndEdits(t *testing.T) {
	w := newWorld(t, worldOpts{})
	movies, film := w.addItem("Film")
	// A second library the member will not be granted.
	ctx := context.Background()
	musicDir := filepath.Join(w.dataDir, "music")
	if err := os.MkdirAll(musicDir, 0o755); err != nil {
		t.Fatal(err)
	}
	music, err := w.lib.CreateLibrary(ctx, "Music", musicDir, library.KindMusic)
	if err != nil {
		t.Fatal(err)
	}
	var song int64
	if err := w.db.QueryRow(`INSERT INTO library_items(library_id, kind, key, title, path, added_at, updated_at)
		VALUES(?, 'track', 'a.mp3', 'Song', '/x/a.mp3', 0, 0) RETURNING id`, music.ID).Scan(&song); err != nil {
		t.Fatal(err)
	}
	admin, _ := w.user("root", auth.RoleAdmin)
	member, mu := w.user("mia", auth.RoleMember)
	admin.must(200, "PUT", fmt.Sprintf("/api/users/%d/libraries", mu.ID),
		map[string]any{"all": false, "libraryIds": []int64{movies}}, nil)

	var libs struct{ Libraries []library.Library }
	member.must(200, "GET", "/api/libraries", nil, &libs)
	if len(libs.Libraries) != 1 || libs.Libraries[0].ID != movies || libs.Libraries[0].Location != "" {
		t.Fatalf("member libraries = %+v", libs.Libraries)
	}
	admin.must(200, "GET", "/api/libraries", nil, &libs)
	if len(libs.Libraries) != 2 || libs.Libraries[0].Location == "" {
		t.Fatalf("admin libraries = %+v", libs.Libraries)
	}
	var items struct{ Items []library.Item }
	member.must(200, "GET", "/api/items?kind=movie,track", nil, &items)
	if len(items.Items) != 1 || items.Items[0].ID != film || items.Items[0].Path != "" {
		t.Fatalf("member items = %+v", items.Items)
	}
	member.must(200, "GET", fmt.Sprintf("/api/items?library=%d", music.ID), nil, &items)
	if len(items.Items) != 0 {
		t.Fatalf("member sees the music library: %+v", items.Items)
	}
	member.must(404, "GET", fmt.Sprintf("/api/items/%d", song), nil, nil)
	member.must(404, "GET", fmt.Sprintf("/api/items/%d/poster", song), nil, nil)
	member.must(404, "GET", fmt.Sprintf("/api/libraries/%d/scan", music.ID), nil, nil)
	var pv partyView
	member.must(404, "POST", "/api/parties", map[string]any{"itemId": song}, nil)
	member.must(201, "POST", "/api/parties", map[string]any{"itemId": film}, &pv)
	member.must(404, "POST", fmt.Sprintf("/api/parties/%d/queue", pv.ID), map[string]any{"itemId": song}, nil)

	// Manual edits (admin only) show through the API.
	member.must(403, "PATCH", fmt.Sprintf("/api/items/%d", film), map[string]string{"title": "Mine"}, nil)
	var it library.Item
	admin.must(200, "PATCH", fmt.Sprintf("/api/items/%d", film), map[string]string{"title": "Director's Cut"}, &it)
	member.must(200, "GET", fmt.Sprintf("/api/items/%d", film), nil, &it)
	if it.Title != "Director's Cut" || len(it.Edited) == 0 {
		t.Fatalf("edited item = %+v", it)
	}
	admin.must(200, "GET", fmt.Sprintf("/api/items/%d", film), nil, &it)
	if it.Path == "" {
		t.Fatal("admins see file paths")
	}

	// Scans start and report progress.
	var prog library.Progress
	admin.must(202, "POST", fmt.Sprintf("/api/libraries/%d/scan", music.ID), nil, &prog)
	eventually(t, "the scan to finish", func() bool {
		admin.must(200, "GET", fmt.Sprintf("/api/libraries/%d/scan", music.ID), nil, &prog)
		return prog.State.Final()
	})
	if prog.State != library.StateDone {
		t.Fatalf("scan = %+v", prog)
	}
}

package api

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
)

type continueOut struct {
	Items []library.InProgress `json:"items"`
}

func progressPath(id int64) string { return "/api/items/" + strconv.FormatInt(id, 10) + "/progress" }

// addLibraryItem creates a second library (Shows) holding one movie-like
// item, so tests can take a user's access to it away.
func (w *world) addLibraryItem(title string) (libID, itemID int64) {
	w.t.Helper()
	root := filepath.Join(w.dataDir, "other")
	_ = os.MkdirAll(root, 0o755)
	lib, err := w.lib.CreateLibrary(context.Background(), "Other", root, library.KindMovies)
	if err != nil {
		w.t.Fatal(err)
	}
	err = w.db.QueryRow(`INSERT INTO library_items(library_id, kind, key, title, duration_ms, path, added_at, updated_at)
		VALUES(?, 'movie', ?, ?, 600000, ?, 0, 0) RETURNING id`, lib.ID, title+".mkv", title,
		filepath.Join(root, title+".mkv")).Scan(&itemID)
	if err != nil {
		w.t.Fatal(err)
	}
	return lib.ID, itemID
}

// TestProgressSaveReadAndContinue: a saved position reads back, lists in
// Continue watching (most recent first), and leaves it once past 95 %.
func TestProgressSaveReadAndContinue(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, film := w.addItem("Film")
	_, other := w.addItem("Other")
	mia, _ := w.user("mia", auth.RoleMember)
	bob, _ := w.user("bob", auth.RoleMember)

	var p library.WatchProgress
	mia.must(200, "GET", progressPath(film), nil, &p)
	if p.PositionMs != 0 || p.Finished {
		t.Fatalf("progress before any play = %+v", p)
	}
	mia.must(200, "PUT", progressPath(film), map[string]any{"positionMs": 70500.7, "durationMs": 600000}, &p)
	if p.PositionMs != 70500 || p.DurationMs != 600000 || p.Finished {
		t.Fatalf("saved = %+v", p)
	}
	mia.must(200, "PUT", progressPath(other), map[string]any{"positionMs": 1000, "durationMs": 600000}, nil)
	mia.must(200, "GET", progressPath(film), nil, &p)
	if p.PositionMs != 70500 {
		t.Fatalf("read back = %+v", p)
	}
	var cw continueOut
	mia.must(200, "GET", "/api/me/continue", nil, &cw)
	if len(cw.Items) != 2 || cw.Items[0].Item.ID != other || cw.Items[1].Item.ID != film || cw.Items[1].Progress.PositionMs != 70500 {
		t.Fatalf("continue = %+v", cw.Items)
	}
	if cw.Items[0].Item.Path != "" {
		t.Fatalf("a member sees the file path %q", cw.Items[0].Item.Path)
	}
	// Someone else's progress is their own.
	bob.must(200, "GET", "/api/me/continue", nil, &cw)
	if len(cw.Items) != 0 {
		t.Fatalf("bob's continue = %+v", cw.Items)
	}
	// Past 95 %: finished, gone from the row.
	mia.must(200, "PUT", progressPath(other), map[string]any{"positionMs": 580000, "durationMs": 600000}, &p)
	if !p.Finished {
		t.Fatalf("96.7%% is not finished: %+v", p)
	}
	mia.must(200, "GET", "/api/me/continue", nil, &cw)
	if len(cw.Items) != 1 || cw.Items[0].Item.ID != film {
		t.Fatalf("continue after finishing = %+v", cw.Items)
	}
}

// TestProgressBadInput: every bad body or item is refused with a JSON
// error that says what to send.
func TestProgressBadInput(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, film := w.addItem("Film")
	mia, _ := w.user("mia", auth.RoleMember)
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"negative position", progressPath(film), `{"positionMs": -1, "durationMs": 1000}`, 400, "invalid"},
		{"NaN position", progressPath(film), `{"positionMs": NaN, "durationMs": 1000}`, 400, "bad_request"},
		{"string position", progressPath(film), `{"positionMs": "NaN", "durationMs": 1000}`, 400, "bad_request"},
		{"huge number", progressPath(film), `{"positionMs": 1e400, "durationMs": 1000}`, 400, "bad_request"},
		{"zero duration", progressPath(film), `{"positionMs": 0, "durationMs": 0}`, 400, "invalid"},
		{"past the end", progressPath(film), `{"positionMs": 900000, "durationMs": 600000}`, 400, "invalid"},
		{"missing fields", progressPath(film), `{}`, 400, "bad_request"},
		{"unknown item", progressPath(99999), `{"positionMs": 1, "durationMs": 1000}`, 404, "not_found"},
		{"bad id", "/api/items/abc/progress", `{"positionMs": 1, "durationMs": 1000}`, 400, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mia.do("PUT", tc.path, tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("= %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			var e Error
			r.json(t, &e)
			if e.Message == "" {
				t.Fatal("error without a message")
			}
		})
	}
	mia.must(400, "GET", "/api/me/continue?limit=0", nil, nil)
	w.browser().must(401, "GET", "/api/me/continue", nil, nil)
	w.browser().must(401, "PUT", progressPath(film), map[string]any{"positionMs": 1, "durationMs": 1000}, nil)
}

// TestProgressForeignLibrary: an item in a library the user may not see
// can be neither read nor saved, and drops from Continue watching when
// access is taken away.
func TestProgressForeignLibrary(t *testing.T) {
	w := newWorld(t, worldOpts{})
	filmLib, film := w.addItem("Film")
	_, hidden := w.addLibraryItem("Hidden")
	mia, u := w.user("mia", auth.RoleMember)
	ctx := context.Background()
	mia.must(200, "PUT", progressPath(hidden), map[string]any{"positionMs": 5000, "durationMs": 600000}, nil)
	mia.must(200, "PUT", progressPath(film), map[string]any{"positionMs": 5000, "durationMs": 600000}, nil)
	if err := w.auth.SetLibraryAccess(ctx, u.ID, false, []string{strconv.FormatInt(filmLib, 10)}); err != nil {
		t.Fatal(err)
	}
	var cw continueOut
	mia.must(200, "GET", "/api/me/continue", nil, &cw)
	if len(cw.Items) != 1 || cw.Items[0].Item.ID != film {
		t.Fatalf("continue after losing a library = %+v", cw.Items)
	}
	for _, m := range []string{"GET", "PUT"} {
		r := mia.do(m, progressPath(hidden), map[string]any{"positionMs": 6000, "durationMs": 600000})
		if r.status != 404 || r.code() != "not_found" {
			t.Fatalf("%s foreign item = %d %s", m, r.status, r.body)
		}
	}
}

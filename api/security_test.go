package api

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
)

// A poster recorded as a link leading outside its library root (a library
// scanned before scans refused such links) is never served: not to
// members, not through the CDN origin route.
func TestPosterLinkOutsideRootNotServed(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, film := w.addItem("Evil")
	secret := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(secret, []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(w.dataDir, "movies", "poster.jpg")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Exec(`UPDATE library_items SET poster_path = ? WHERE id = ?`, link, film); err != nil {
		t.Fatal(err)
	}
	member, _ := w.user("mia", auth.RoleMember)
	for _, path := range []string{
		fmt.Sprintf("/api/items/%d/poster", film),
		fmt.Sprintf("/api/items/%d/poster?direct=1", film),
		fmt.Sprintf("/api/posters/%d/x", film),
	} {
		r := member.do("GET", path, nil)
		if r.status != 404 || strings.Contains(string(r.body), "root:x") {
			t.Errorf("GET %s = %d %q, want 404", path, r.status, r.body)
		}
	}
}

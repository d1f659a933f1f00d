package api

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// Durations from requests are range-checked before they become a
// time.Duration: values that used to wrap around (a token meant to live
// 584 years expiring 290 ms later, or never) are a 400 naming the range.
func TestRequestDurationsBounded(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, film := w.addItem("Film")
	member, _ := w.user("mia", auth.RoleMember)
	for _, secs := range []any{18446744074, int64(1<<63 - 1), -1, 315360001} {
		r := member.do("POST", "/api/me/tokens", map[string]any{"name": "bot", "expiresInSeconds": secs})
		if r.status != 400 || !strings.Contains(string(r.body), "expiresInSeconds") || !strings.Contains(string(r.body), "between") {
			t.Errorf("token for %v s: %d %s, want 400 naming the range", secs, r.status, r.body)
		}
	}
	var tok struct{ Token auth.Token }
	member.must(201, "POST", "/api/me/tokens", map[string]any{"name": "day", "expiresInSeconds": 86400}, &tok)
	if e := tok.Token.ExpiresAtMs; e == nil || time.UnixMilli(*e).Sub(w.now()) < 23*time.Hour {
		t.Errorf("a one-day token expires at %v", e)
	}
	member.must(201, "POST", "/api/me/tokens", map[string]any{"name": "forever", "expiresInSeconds": 0}, nil)

	var pv partyView
	member.must(201, "POST", "/api/parties", map[string]any{"itemId": film}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	for _, body := range []map[string]any{
		{"expiresInSeconds": int64(9223372037)},     // wraps to a few minutes
		{"expiresInSeconds": int64(18446744073709)}, // wraps to about 8 hours
		{"expiresInSeconds": -5},
		{"expiresIn": 1e300},
		{"expiresIn": 9223372037.0},
	} {
		r := member.do("POST", base+"/invites", body)
		if r.status != 400 || !strings.Contains(string(r.body), "between") {
			t.Errorf("invite %v: %d %s, want 400 naming the range", body, r.status, r.body)
		}
	}
	for _, pos := range []float64{1e300, -1, 1e7} {
		r := member.do("POST", base+"/control", map[string]any{"action": "seek", "positionSeconds": pos})
		if r.status != 400 || !strings.Contains(string(r.body), "positionSeconds") {
			t.Errorf("seek to %g: %d %s, want 400 naming positionSeconds", pos, r.status, r.body)
		}
	}
}

// An item's title is bounded where it enters (an edit is refused with a
// 400 naming the field and the limit), and any title the library holds
// can be queued and named a party after, even one saved before the limit.
func TestItemTitlesFitParties(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, film := w.addItem("Film")
	admin, _ := w.user("root", auth.RoleAdmin)
	r := admin.do("PATCH", fmt.Sprintf("/api/items/%d", film), map[string]string{"title": strings.Repeat("x", 200_000)})
	if r.status != 400 || !strings.Contains(string(r.body), "title") || !strings.Contains(string(r.body), "300") {
		t.Fatalf("200 KB title edit: %d %.300s, want 400 naming title and 300", r.status, r.body)
	}
	for _, n := range []int{250, 400} { // 400: a row saved before the limit
		if _, err := w.db.Exec(`UPDATE library_items SET title = ? WHERE id = ?`, strings.Repeat("ü", n/2), film); err != nil {
			t.Fatal(err)
		}
		var pv partyView
		admin.must(201, "POST", "/api/parties", map[string]any{"itemId": film}, &pv)
		admin.must(201, "POST", fmt.Sprintf("/api/parties/%d/queue", pv.ID), map[string]any{"itemId": film}, nil)
	}
}

// Members never see where files live: not in items, libraries, parties or
// scan progress (a failed scan's error names the library folder).
func TestMembersSeeNoFilePaths(t *testing.T) {
	w := newWorld(t, worldOpts{})
	libID, film := w.addItem("Film")
	admin, _ := w.user("root", auth.RoleAdmin)
	member, _ := w.user("mia", auth.RoleMember)
	var pv partyView
	member.must(201, "POST", "/api/parties", map[string]any{"itemId": film}, &pv)
	if err := os.RemoveAll(filepath.Join(w.dataDir, "movies")); err != nil {
		t.Fatal(err)
	}
	admin.must(202, "POST", fmt.Sprintf("/api/libraries/%d/scan", libID), nil, nil)
	eventually(t, "the scan to fail", func() bool {
		r := admin.do("GET", fmt.Sprintf("/api/libraries/%d/scan", libID), nil)
		return strings.Contains(string(r.body), `"failed"`)
	})
	if r := admin.do("GET", fmt.Sprintf("/api/items/%d", film), nil); !strings.Contains(string(r.body), w.dataDir) {
		t.Errorf("admins see paths: %.300s", r.body)
	}
	for _, path := range []string{
		"/api/items", fmt.Sprintf("/api/items/%d", film), "/api/libraries",
		fmt.Sprintf("/api/libraries/%d/scan", libID), fmt.Sprintf("/api/parties/%d", pv.ID),
	} {
		r := member.do("GET", path, nil)
		if r.status != 200 || strings.Contains(string(r.body), w.dataDir) {
			t.Errorf("GET %s = %d %.400s, shows a file path", path, r.status, r.body)
		}
	}
}

// A session cookie naming an account slot it does not hold is refused,
// not taken as its first account.
func TestCookieSlotOutOfRangeRefused(t *testing.T) {
	w := newWorld(t, worldOpts{})
	b, _ := w.user("mia", auth.RoleMember)
	b.must(200, "GET", "/api/me", nil, nil)
	u, _ := url.Parse(w.http.URL)
	var sid string
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == SessionCookie {
			_, sid, _ = strings.Cut(c.Value, ".")
		}
	}
	if sid == "" {
		t.Fatal("no session cookie")
	}
	for _, v := range []string{"1." + sid, "7." + sid, "-1." + sid, "x." + sid} {
		req, _ := http.NewRequest("GET", w.http.URL+"/api/me", nil)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("cookie %q…: %d, want 401", v[:3], resp.StatusCode)
		}
	}
}

// Ids in paths are canonical: "+1" and "01" are not item 1.
func TestPathIDsCanonical(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, film := w.addItem("Film")
	member, _ := w.user("mia", auth.RoleMember)
	member.must(200, "GET", fmt.Sprintf("/api/items/%d", film), nil, nil)
	for _, id := range []string{"+" + fmt.Sprint(film), "0" + fmt.Sprint(film)} {
		if r := member.do("GET", "/api/items/"+id+"/poster?direct=1", nil); r.status != 400 {
			t.Errorf("GET /api/items/%s/poster = %d, want 400", id, r.status)
		}
	}
}

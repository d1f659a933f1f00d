package api

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// TestPasswordAfterLoginLink: an admin who came in by the one-time link has
// no password, sets one without a current password, and can then sign in
// with it once the link is spent. Changing it later needs the current one.
func TestPasswordAfterLoginLink(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	admin, secret, _, err := w.auth.Bootstrap(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := w.browser()
	var me auth.User
	b.must(200, "POST", "/api/auth/link", map[string]string{"token": secret}, &me)
	if me.ID != admin.ID || me.HasPassword {
		t.Fatalf("after the link: %+v, want the admin without a password", me)
	}
	// The link is spent: a second use says so in its own code.
	if r := w.browser().do("POST", "/api/auth/link", map[string]string{"token": secret}); r.status != 401 || r.code() != "link_used" {
		t.Fatalf("second use of the link = %d %s, want 401 link_used", r.status, r.body)
	}
	if r := w.browser().do("POST", "/api/auth/link", map[string]string{"token": "mql_garbage"}); r.status != 401 || r.code() != "invalid_credentials" {
		t.Fatalf("unknown link = %d %s, want 401 invalid_credentials", r.status, r.body)
	}
	if r := b.do("POST", "/api/me/password", map[string]string{"newPassword": "short"}); r.status != 400 {
		t.Fatalf("short password = %d %s, want 400", r.status, r.body)
	}
	b.must(200, "POST", "/api/me/password", map[string]string{"newPassword": "popcorn-night"}, &me)
	if !me.HasPassword {
		t.Fatalf("after setting a password: %+v", me)
	}
	w.browser().must(200, "POST", "/api/auth/login", map[string]string{"username": "admin", "password": "popcorn-night"}, nil)

	// Now the current password is needed, and wrong guesses are throttled.
	if r := b.do("POST", "/api/me/password", map[string]string{"newPassword": "another-one"}); r.status != 400 {
		t.Fatalf("change without the current password = %d %s, want 400", r.status, r.body)
	}
	if r := b.do("POST", "/api/me/password", map[string]string{"currentPassword": "nope-nope", "newPassword": "another-one"}); r.status != 403 || r.code() != "wrong_password" {
		t.Fatalf("change with a wrong current password = %d %s, want 403 wrong_password", r.status, r.body)
	}
	// PATCH /api/me is no way around it.
	if r := b.do("PATCH", "/api/me", map[string]string{"password": "another-one"}); r.status != 400 {
		t.Fatalf("PATCH /api/me password without the current one = %d %s, want 400", r.status, r.body)
	}
	if r := b.do("PATCH", "/api/me", map[string]string{"password": "another-one", "currentPassword": "nope-nope"}); r.status != 403 {
		t.Fatalf("PATCH /api/me password with a wrong current one = %d %s, want 403", r.status, r.body)
	}
	b.must(200, "POST", "/api/me/password", map[string]string{"currentPassword": "popcorn-night", "newPassword": "another-one"}, nil)
	w.browser().must(200, "POST", "/api/auth/login", map[string]string{"username": "admin", "password": "another-one"}, nil)
	throttled := false
	for range LoginFailures + 1 {
		r := b.do("POST", "/api/me/password", map[string]string{"currentPassword": "guess-guess", "newPassword": "x-x-x-x-x-x"})
		throttled = throttled || r.status == 429
	}
	if !throttled {
		t.Fatal("wrong current passwords were never throttled")
	}

	// Guests have no password to set.
	guest, _ := w.user("g", auth.RoleGuest)
	if r := guest.do("POST", "/api/me/password", map[string]string{"newPassword": "popcorn-night"}); r.status != 403 {
		t.Fatalf("guest sets a password = %d, want 403", r.status)
	}
}

// TestLoginPageSendsFailuresToSignIn: the link page hands a refused link to
// the app's sign-in page with the reason, where the password form is.
func TestLoginPageSendsFailuresToSignIn(t *testing.T) {
	w := newWorld(t, worldOpts{})
	page := w.browser().must(200, "GET", "/login/mql_whatever", nil, nil)
	if !bytes.Contains(page.body, []byte(`/signin?link=`)) {
		t.Fatalf("login page does not send failures to /signin:\n%s", page.body)
	}
}

// TestCheckInvite checks an invite without spending it: a good one names
// the party, what plays and a poster its holder may load; a bad one says
// why, before anyone types a name.
func TestCheckInvite(t *testing.T) {
	now := time.Now()
	// The party service's watchdog reads the clock from its own goroutine.
	var at atomic.Pointer[time.Time]
	at.Store(&now)
	w := newWorld(t, worldOpts{now: func() time.Time { return *at.Load() }})
	_, item := w.addItem("Night Train")
	host, _ := w.user("hana", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": item, "title": "Friday film"}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]any{"role": "listener", "expiresInSeconds": 3600}, &inv)

	stranger := w.browser()
	var info InviteInfo
	stranger.must(200, "GET", "/api/invites/"+inv.Token, nil, &info)
	if info.PartyID != pv.ID || info.Title != "Friday film" || info.NowPlaying != "Night Train" || info.Role != party.RoleListener ||
		info.PosterURL == "" {
		t.Fatalf("invite info = %+v", info)
	}
	r := stranger.must(200, "GET", info.PosterURL, nil, nil)
	if !bytes.Equal(r.body, []byte("\xff\xd8\xff\xe0JPEGDATA-Night Train")) {
		t.Fatalf("invite poster = %q", r.body)
	}
	// Checking spent nothing and made no account.
	if r := stranger.do("GET", "/api/me", nil); r.status != 401 {
		t.Fatalf("after a check, /api/me = %d, want 401", r.status)
	}

	payload, mac, _ := strings.Cut(inv.Token, ".")
	for _, tc := range []struct{ name, token, code string }{
		{"garbage", "not-an-invite", "invite_invalid"},
		{"tampered", payload[:len(payload)-2] + "AA." + mac, "invite_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := stranger.do("GET", "/api/invites/"+tc.token, nil); r.status != 401 || r.code() != tc.code {
				t.Fatalf("= %d %s, want 401 %s", r.status, r.body, tc.code)
			}
			if r := stranger.do("GET", "/api/invites/"+tc.token+"/poster", nil); r.status != 401 {
				t.Fatalf("poster = %d, want 401", r.status)
			}
		})
	}
	later := now.Add(2 * time.Hour)
	at.Store(&later)
	if r := stranger.do("GET", "/api/invites/"+inv.Token, nil); r.status != 401 || r.code() != "invite_expired" {
		t.Fatalf("expired = %d %s, want 401 invite_expired", r.status, r.body)
	}
	at.Store(&now)
	host.must(204, "DELETE", base+"/invites", nil, nil)
	if r := stranger.do("GET", "/api/invites/"+inv.Token, nil); r.status != 401 || r.code() != "invite_revoked" {
		t.Fatalf("revoked = %d %s, want 401 invite_revoked", r.status, r.body)
	}
}

// TestStartContainerQueuesInOrder: starting a party on an album, a season
// or a show queues every track or episode in order (specials last).
func TestStartContainerQueuesInOrder(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	lib, err := w.lib.CreateLibrary(ctx, "Mixed", w.dataDir, library.KindShows)
	if err != nil {
		t.Fatal(err)
	}
	add := func(parent int64, kind, title string, season, episode, track int) int64 {
		var id int64
		var p any
		if parent != 0 {
			p = parent
		}
		path := ""
		if kind == "track" || kind == "episode" {
			path = "/media/" + title
		}
		if err := w.db.QueryRow(`INSERT INTO library_items(library_id, parent_id, kind, key, title, season_number, episode_number,
			track_number, path, duration_ms, added_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, 60000, 0, 0) RETURNING id`,
			lib.ID, p, kind, kind+"/"+title, title, season, episode, track, path).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	artist := add(0, "artist", "Band", 0, 0, 0)
	album := add(artist, "album", "Record", 0, 0, 0)
	add(album, "track", "Second", 0, 0, 2) // inserted out of order
	add(album, "track", "First", 0, 0, 1)
	add(album, "track", "Third", 0, 0, 3)
	show := add(0, "show", "Serial", 0, 0, 0)
	specials := add(show, "season", "Specials", 0, 0, 0)
	add(specials, "episode", "Extra", 0, 1, 0)
	s2 := add(show, "season", "Season 2", 2, 0, 0)
	add(s2, "episode", "Return", 2, 1, 0)
	s1 := add(show, "season", "Season 1", 1, 0, 0)
	add(s1, "episode", "Pilot", 1, 1, 0)
	add(s1, "episode", "Next", 1, 2, 0)

	host, _ := w.user("root", auth.RoleAdmin)
	for _, tc := range []struct {
		name string
		item int64
		want []string
	}{
		{"album", album, []string{"First", "Second", "Third"}},
		{"season", s1, []string{"S01E01 – Pilot", "S01E02 – Next"}},
		{"show", show, []string{"S01E01 – Pilot", "S01E02 – Next", "S02E01 – Return", "S00E01 – Extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pv partyView
			host.must(201, "POST", "/api/parties", map[string]any{"itemId": tc.item}, &pv)
			var got []string
			for _, e := range pv.Queue {
				got = append(got, e.Title)
			}
			if strings.Join(got, " | ") != strings.Join(tc.want, " | ") {
				t.Fatalf("queue = %q, want %q", got, tc.want)
			}
		})
	}
}

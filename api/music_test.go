package api

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// TestMusicEntryForGuests scans a real album with a cover.jpg, starts a
// party on a track and checks that a listener who arrived by invite (and
// may not browse the library) gets the artist, album and poster URL in the
// party and can load the current entry's poster: the album's cover.
func TestMusicEntryForGuests(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	root := filepath.Join(w.dataDir, "music")
	album := filepath.Join(root, "Marquee Ensemble", "First Light")
	if err := os.MkdirAll(album, 0o755); err != nil {
		t.Fatal(err)
	}
	flac, err := os.ReadFile(testmedia.Generate(t, testmedia.FLAC))
	if err != nil {
		t.Fatal(err)
	}
	cover := []byte("\xff\xd8\xff\xe0JPEGDATA-cover")
	for name, b := range map[string][]byte{"01 - Dawn.flac": flac, "cover.jpg": cover} {
		if err := os.WriteFile(filepath.Join(album, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib, err := w.lib.CreateLibrary(ctx, "Music", root, library.KindMusic)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := w.user("root", auth.RoleAdmin)
	var prog library.Progress
	admin.must(202, "POST", fmt.Sprintf("/api/libraries/%d/scan", lib.ID), nil, &prog)
	eventually(t, "the scan to finish", func() bool {
		admin.must(200, "GET", fmt.Sprintf("/api/libraries/%d/scan", lib.ID), nil, &prog)
		return prog.State.Final()
	})
	tracks, err := w.lib.Items(ctx, library.Query{LibraryIDs: []int64{lib.ID}, Kinds: []library.ItemKind{library.ItemTrack}})
	if err != nil || len(tracks) != 1 || !tracks[0].HasPoster {
		t.Fatalf("tracks = %+v %v (%+v)", tracks, err, prog)
	}
	track := tracks[0].ID

	host, _ := w.user("hana", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": track}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	host.must(200, "POST", base+"/control", map[string]string{"action": "play"}, nil)
	var li Invite
	host.must(201, "POST", base+"/invites", map[string]any{"role": "listener"}, &li)

	guest := w.browser()
	guest.must(200, "POST", "/api/join", map[string]string{"token": li.Token, "displayName": "Gus"}, nil)
	guest.must(403, "GET", fmt.Sprintf("/api/items/%d", track), nil, nil)
	guest.must(200, "GET", base, nil, &pv)
	cur := pv.Current
	want := party.Entry{SourceID: fmt.Sprint(track), Title: "Dawn", Artist: "Marquee Ensemble", Album: "First Light",
		PosterURL: fmt.Sprintf("/api/items/%d/poster", track)}
	if cur == nil || cur.SourceID != want.SourceID || cur.Title != want.Title || cur.Artist != want.Artist ||
		cur.Album != want.Album || cur.PosterURL != want.PosterURL {
		t.Fatalf("guest's current entry = %+v, want %+v", cur, want)
	}
	r := guest.must(200, "GET", cur.PosterURL, nil, nil)
	if !bytes.Equal(r.body, cover) || r.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("guest's poster = %q (%s), want the album's cover.jpg", r.body, r.header.Get("Content-Type"))
	}
	// Outside their party, guests still see no posters.
	_, other := w.addItem("Elsewhere")
	guest.must(404, "GET", fmt.Sprintf("/api/items/%d/poster", other), nil, nil)
}

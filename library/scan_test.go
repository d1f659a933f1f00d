package library

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

func itemsByTitle(t *testing.T, svc *Service, q Query) map[string]Item {
	t.Helper()
	items, err := svc.Items(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Item{}
	for _, it := range items {
		out[it.Title] = it
	}
	return out
}

func TestScanMovies(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := t.TempDir()
	inception := placeFile(t, root, "Inception (2010)/Inception (2010).mp4", media(t, testmedia.H264AAC))
	writeFile(t, root, "Inception (2010)/movie.nfo", []byte(`<movie><title>Inception</title><year>2010</year>
		<plot>Dreams within dreams.</plot><genre>Sci-Fi</genre><uniqueid type="tmdb">27205</uniqueid></movie>`))
	placeFile(t, root, "The.Matrix.1999.1080p.x265.mkv", clip(t, clipHDR))
	writeFile(t, root, "The.Matrix.1999.1080p.x265-poster.jpg", testJPEG(t, 100, 150))
	broken := placeFile(t, root, "Broken (2001).mkv", media(t, testmedia.NotMedia))
	placeFile(t, root, "Cut Short (2002).mp4", media(t, testmedia.Truncated))
	writeFile(t, root, "notes.txt", []byte("not media"))
	writeFile(t, root, ".hidden/Secret (2000).mkv", []byte("x"))

	lib, err := svc.CreateLibrary(ctx, "Films", root, KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	p := scanNow(t, svc, lib.ID)
	if p.FilesTotal != 4 || p.Added != 4 || p.ProbeErrors != 1 || p.Percent != 100 {
		t.Fatalf("first scan progress %+v", p)
	}
	got := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}})
	if len(got) != 4 {
		t.Fatalf("items %v", got)
	}
	inc := got["Inception"]
	if inc.Kind != ItemMovie || inc.Year != 2010 || inc.Summary != "Dreams within dreams." ||
		inc.ExternalIDs["tmdb"] != "27205" || inc.Genres[0] != "Sci-Fi" || inc.LibraryID != lib.ID {
		t.Errorf("inception %+v", inc)
	}
	if inc.DurationMs < 3900 || inc.Media == nil || !inc.HasPoster {
		t.Errorf("inception media %+v poster %q", inc.Media, inc.PosterPath)
	} else if w, _ := jpegSize(t, inc.PosterPath); w != 300 {
		t.Errorf("generated poster width %d", w)
	}
	mat := got["The Matrix"]
	if mat.Year != 1999 || mat.Media == nil || mat.Media.Video[0].HDR != "HDR10" ||
		!strings.HasSuffix(mat.PosterPath, "-poster.jpg") {
		t.Errorf("matrix %+v", mat)
	}
	br := got["Broken"]
	if br.Year != 2001 || !strings.Contains(br.ProbeError, "probe failed") || br.Media != nil {
		t.Errorf("broken %+v", br)
	}
	if _, err := svc.ResolvePlayback(ctx, br.ID, ResolveOptions{}); err == nil {
		t.Error("a file that failed its probe resolved for playback")
	}
	if tg, err := svc.ResolvePlayback(ctx, inc.ID, ResolveOptions{}); err != nil || tg.Playback.StreamURL != inception ||
		tg.MediaType != "movie" || tg.Playback.DurationSeconds < 3.9 {
		t.Errorf("resolve inception: %+v, %v", tg, err)
	}

	// A manual edit survives a rescan of a changed file.
	title, year := "Inception (Director's Cut)", 2011
	if _, err := svc.EditItem(ctx, inc.ID, Edit{Title: &title, Year: &year}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(inception, later, later); err != nil {
		t.Fatal(err)
	}
	p = scanNow(t, svc, lib.ID)
	if p.Updated != 1 || p.Unchanged != 3 || p.Added != 0 {
		t.Fatalf("rescan progress %+v", p)
	}
	it, err := svc.Item(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if it.Title != title || it.Year != year || it.Summary != "Dreams within dreams." ||
		strings.Join(it.Edited, ",") != "title,year" {
		t.Errorf("after rescan %+v", it)
	}
	// A changed sidecar counts as a change; edits still win over it.
	nfo := filepath.Join(filepath.Dir(inception), "movie.nfo")
	writeFile(t, root, "Inception (2010)/movie.nfo", []byte(`<movie><title>Inception</title><plot>New plot.</plot></movie>`))
	later = later.Add(time.Hour)
	if err := os.Chtimes(nfo, later, later); err != nil {
		t.Fatal(err)
	}
	if p = scanNow(t, svc, lib.ID); p.Updated != 1 {
		t.Fatalf("rescan after .nfo change %+v", p)
	}
	if it, err = svc.Item(ctx, inc.ID); err != nil || it.Summary != "New plot." || it.Title != title {
		t.Fatalf("after .nfo change %+v %v", it, err)
	}
	if it, err = svc.ResetEdits(ctx, inc.ID); err != nil || it.Title != "Inception" || len(it.Edited) != 0 {
		t.Errorf("reset edits: %+v, %v", it, err)
	}

	// Vanished files go; search still works.
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	p = scanNow(t, svc, lib.ID)
	if p.Removed != 1 || p.Unchanged != 3 {
		t.Fatalf("third scan %+v", p)
	}
	if _, err := svc.Item(ctx, br.ID); err == nil {
		t.Error("vanished item still there")
	}
	if got := itemsByTitle(t, svc, Query{Search: "matr"}); len(got) != 1 {
		t.Errorf("search: %v", got)
	}
	if got := itemsByTitle(t, svc, Query{LibraryIDs: []int64{}}); len(got) != 0 {
		t.Errorf("no allowed libraries still listed %v", got)
	}
}

func TestScanShows(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := t.TempDir()
	clipPath := media(t, testmedia.H264AAC)
	placeFile(t, root, "Firefly (2002)/Season 01/Firefly - S01E01 - Serenity.mp4", clipPath)
	placeFile(t, root, "Firefly (2002)/Season 01/Firefly - S01E02 - The Train Job.mp4", clipPath)
	placeFile(t, root, "Firefly (2002)/Season 01/Firefly - S01E03 - Bushwhacked.mkv", media(t, testmedia.NotMedia))
	placeFile(t, root, "Firefly (2002)/Specials/Firefly - S00E01 - Here's How It Was.mp4", clipPath)
	writeFile(t, root, "Firefly (2002)/tvshow.nfo", []byte(`<tvshow><title>Firefly</title><year>2002</year><plot>Browncoats.</plot></tvshow>`))
	writeFile(t, root, "Firefly (2002)/poster.jpg", testJPEG(t, 60, 90))
	placeFile(t, root, "Other.Show.S02E05.720p.HDTV.mp4", clipPath)

	lib, err := svc.CreateLibrary(ctx, "", root, KindShows)
	if err != nil {
		t.Fatal(err)
	}
	p := scanNow(t, svc, lib.ID)
	if p.FilesTotal != 5 || p.ProbeErrors != 1 {
		t.Fatalf("progress %+v", p)
	}
	shows := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}})
	ff, other := shows["Firefly"], shows["Other Show"]
	if len(shows) != 2 || ff.Kind != ItemShow || ff.Summary != "Browncoats." || ff.Year != 2002 ||
		!strings.HasSuffix(ff.PosterPath, "poster.jpg") || other.Kind != ItemShow {
		t.Fatalf("shows %+v", shows)
	}
	seasons, err := svc.Items(ctx, Query{ParentID: ff.ID})
	if err != nil || len(seasons) != 2 || seasons[0].Title != "Specials" || seasons[1].Title != "Season 1" {
		t.Fatalf("seasons %+v %v", seasons, err)
	}
	eps, err := svc.Items(ctx, Query{ParentID: seasons[1].ID})
	if err != nil || len(eps) != 3 || eps[0].Title != "Serenity" || eps[1].EpisodeNumber != 2 || eps[2].ProbeError == "" {
		t.Fatalf("episodes %+v %v", eps, err)
	}
	if !seasons[1].HasPoster {
		t.Error("season has no poster (should inherit from an episode)")
	}
	// A show resolves to its first unplayed regular episode.
	tg, err := svc.ResolvePlayback(ctx, ff.ID, ResolveOptions{})
	if err != nil || tg.Item.ID != eps[0].ID || tg.MediaType != "episode" || tg.Title != "Firefly – S01E01 – Serenity" {
		t.Fatalf("resolve show: %+v %v", tg, err)
	}
	played := map[int64]bool{eps[0].ID: true}
	tg, err = svc.ResolvePlayback(ctx, ff.ID, ResolveOptions{Played: func(id int64) bool { return played[id] }})
	if err != nil || tg.Item.ID != eps[1].ID {
		t.Fatalf("resolve show after E01 played: %+v %v", tg.Item, err)
	}
	played[eps[1].ID] = true // E03 is broken, so the specials come next
	tg, err = svc.ResolvePlayback(ctx, ff.ID, ResolveOptions{Played: func(id int64) bool { return played[id] }})
	if err != nil || tg.Item.SeasonNumber != 0 {
		t.Fatalf("resolve show after E02 played: %+v %v", tg.Item, err)
	}

	// Removing the whole show removes its seasons too.
	if err := os.RemoveAll(filepath.Join(root, "Firefly (2002)")); err != nil {
		t.Fatal(err)
	}
	p = scanNow(t, svc, lib.ID)
	if p.Removed != 4 {
		t.Fatalf("progress %+v", p)
	}
	if all, _ := svc.Items(ctx, Query{Kinds: []ItemKind{ItemShow, ItemSeason, ItemEpisode}}); len(all) != 3 {
		t.Errorf("left after removal: %+v", all)
	}
}

func TestScanMusic(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t)
	root := t.TempDir()
	placeFile(t, root, "Some Artist/Some Album (1999)/01 First.flac", media(t, testmedia.FLAC))
	placeFile(t, root, "Some Artist/Some Album (1999)/02 - Second.mp3", media(t, testmedia.MP3))
	placeFile(t, root, "Whatever/Folder/05 file.mp3", clip(t, clipCover)) // tags win over names
	// Same album by its folders, with no picture: it takes the album's (the cover art above).
	placeFile(t, root, "Tag Artist/Tag Album/07 Plain.flac", media(t, testmedia.FLAC))
	writeFile(t, root, "Some Artist/Some Album (1999)/folder.jpg", testJPEG(t, 50, 50))

	lib, err := svc.CreateLibrary(ctx, "Music", root, KindMusic)
	if err != nil {
		t.Fatal(err)
	}
	scanNow(t, svc, lib.ID)
	artists := itemsByTitle(t, svc, Query{LibraryIDs: []int64{lib.ID}})
	if len(artists) != 2 || artists["Some Artist"].Kind != ItemArtist || artists["Tag Artist"].Kind != ItemArtist {
		t.Fatalf("artists %+v", artists)
	}
	albums := itemsByTitle(t, svc, Query{ParentID: artists["Some Artist"].ID})
	alb := albums["Some Album"]
	if alb.Year != 1999 || !strings.HasSuffix(alb.PosterPath, "folder.jpg") {
		t.Fatalf("album %+v", albums)
	}
	tracks, err := svc.Items(ctx, Query{ParentID: alb.ID})
	if err != nil || len(tracks) != 2 || tracks[0].Title != "First" || tracks[1].TrackNumber != 2 || tracks[1].Title != "Second" {
		t.Fatalf("tracks %+v %v", tracks, err)
	}
	for _, tr := range tracks { // the album folder's picture
		if !tr.HasPoster || tr.PosterPath != alb.PosterPath {
			t.Errorf("track %q poster %q, want the album's %q", tr.Title, tr.PosterPath, alb.PosterPath)
		}
	}
	tagged := itemsByTitle(t, svc, Query{Kinds: []ItemKind{ItemTrack}, Search: "tagged"})["Tagged Song"]
	if tagged.TrackNumber != 3 || tagged.Year != 2004 || !tagged.HasPoster {
		t.Fatalf("tagged track %+v", tagged)
	}
	tagAlbum, err := svc.Item(ctx, tagged.ParentID)
	if err != nil || tagAlbum.Title != "Tag Album" || tagAlbum.PosterPath != tagged.PosterPath {
		t.Fatalf("tag album %+v %v (cover art should be inherited)", tagAlbum, err)
	}
	if w, h := jpegSize(t, tagged.PosterPath); w != 200 || h != 200 {
		t.Errorf("embedded cover %dx%d", w, h)
	}
	plain := itemsByTitle(t, svc, Query{ParentID: tagAlbum.ID})["Plain"]
	if plain.ID == 0 || plain.PosterPath != tagAlbum.PosterPath {
		t.Errorf("plain track %+v: want the album's poster %q", plain, tagAlbum.PosterPath)
	}
	tg, err := svc.ResolvePlayback(ctx, artists["Some Artist"].ID, ResolveOptions{})
	if err != nil || tg.Item.ID != tracks[0].ID || tg.MediaType != "track" || tg.Title != "Some Artist – First" {
		t.Fatalf("resolve artist: %+v %v", tg, err)
	}
	f, err := svc.PosterFile(ctx, tagged.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

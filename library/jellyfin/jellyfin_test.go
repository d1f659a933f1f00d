package jellyfin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/library/jellyfin"
	jt "github.com/marquee-party/marquee/library/jellyfin/jellyfintest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	srv    *jt.Server
	client *jellyfin.Client
	svc    *library.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := jt.NewServer()
	t.Cleanup(srv.Close)
	c, err := jellyfin.New(jellyfin.Config{BaseURL: srv.URL, APIKey: jt.APIKey, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc, err := library.New(library.Params{DB: db, DataDir: t.TempDir(), Logger: log,
		Remotes: map[library.Source]library.RemoteResolver{library.SourceJellyfin: c}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, client: c, svc: svc}
}

func (f *fixture) children(t *testing.T, parent int64) []library.Item {
	t.Helper()
	items, err := f.svc.Items(context.Background(), library.Query{ParentID: parent})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestClientAuth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	uid, err := f.client.UserID(ctx)
	if err != nil || uid != jt.AdminID {
		t.Fatalf("user %q %v", uid, err)
	}
	views, err := f.client.Views(ctx, uid)
	if err != nil || len(views) != 4 || views[0].CollectionType == "" {
		t.Fatalf("views %+v %v", views, err)
	}
	bad, _ := jellyfin.New(jellyfin.Config{BaseURL: f.srv.URL, APIKey: "wrong-secret-key"})
	if _, err := bad.Users(ctx); !errors.Is(err, jellyfin.ErrUnauthorized) {
		t.Fatalf("wrong key: %v", err)
	}
	down, _ := jellyfin.New(jellyfin.Config{BaseURL: "http://127.0.0.1:1", APIKey: "secret-key-xyz",
		HTTPClient: &http.Client{Timeout: 2 * time.Second}})
	if _, err := down.Users(ctx); err == nil || strings.Contains(err.Error(), "secret-key-xyz") {
		t.Fatalf("transport error %v", err)
	}
	for _, req := range f.srv.Requests() {
		if strings.Contains(req, jt.APIKey) {
			t.Errorf("API call put the key in the URL: %s", req)
		}
	}
}

func TestImportMoviesAndReimport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	imp, err := f.client.Import(ctx, f.svc, "Movies")
	if err != nil {
		t.Fatal(err)
	}
	if imp.Saved != 2 || imp.Posters != 1 || imp.PosterErrors != 0 || imp.Library.Kind != library.KindMovies ||
		imp.Library.Source != library.SourceJellyfin {
		t.Fatalf("import %+v", imp)
	}
	bunny, err := f.svc.Item(ctx, imp.IDs[jt.MovieBunny])
	if err != nil {
		t.Fatal(err)
	}
	if bunny.Year != 2008 || bunny.DurationMs != 596_000 || bunny.ExternalIDs["tmdb"] != "10378" ||
		bunny.ExternalIDs["jellyfin"] != jt.MovieBunny || !bunny.HasPoster || bunny.Played || bunny.Summary == "" {
		t.Errorf("bunny %+v", bunny)
	}
	sintel, _ := f.svc.Item(ctx, imp.IDs[jt.MovieSintel])
	if !sintel.Played {
		t.Errorf("sintel played flag lost: %+v", sintel)
	}
	// Playback of a movie: static stream first, download as fallback, and
	// the stream really serves the file to libav.
	f.srv.SetFile(jt.MovieBunny, testmedia.Generate(t, testmedia.H264AAC))
	tg, err := f.svc.ResolvePlayback(ctx, bunny.ID, library.ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pb := tg.Playback
	if !strings.HasPrefix(pb.StreamURL, f.srv.URL+"/Videos/"+jt.MovieBunny+"/stream?") || !strings.Contains(pb.StreamURL, "static=true") ||
		pb.DownloadURL != f.srv.URL+"/Items/"+jt.MovieBunny+"/Download?api_key="+jt.APIKey ||
		pb.DurationSeconds != 596 || tg.MediaType != "movie" || pb.ItemID == "" || tg.Title != "Big Buck Bunny" {
		t.Fatalf("target %+v", tg)
	}
	mi, err := library.Probe(pb.StreamURL)
	if err != nil || mi.DurationMs < 3900 {
		t.Fatalf("libav on the stream URL: %+v %v", mi, err)
	}

	// Edits survive a re-import; deleted items go.
	title := "Bunny (restored)"
	if _, err := f.svc.EditItem(ctx, bunny.ID, library.Edit{Title: &title}); err != nil {
		t.Fatal(err)
	}
	f.srv.RemoveItem(jt.MovieSintel)
	imp, err = f.client.Import(ctx, f.svc, jt.MoviesView)
	if err != nil || imp.Saved != 1 || imp.Removed != 1 || imp.Posters != 0 {
		t.Fatalf("re-import %+v %v", imp, err)
	}
	if b, _ := f.svc.Item(ctx, bunny.ID); b.Title != title || b.ID != bunny.ID {
		t.Errorf("after re-import %+v", b)
	}
	if _, err := f.client.Import(ctx, f.svc, "No Such Library"); !errors.Is(err, jellyfin.ErrNoView) {
		t.Errorf("missing view: %v", err)
	}
	if _, err := f.client.Import(ctx, f.svc, "Collections"); !errors.Is(err, jellyfin.ErrNoView) {
		t.Errorf("boxsets view: %v", err)
	}
}

func TestImportShowsResolvesNextEpisode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	imp, err := f.client.Import(ctx, f.svc, "Shows")
	if err != nil {
		t.Fatal(err)
	}
	shows := f.children(t, 0)
	if len(shows) != 1 || shows[0].Title != "Firefly" || !shows[0].HasPoster || shows[0].ExternalIDs["tvdb"] != "78874" {
		t.Fatalf("shows %+v", shows)
	}
	seasons := f.children(t, shows[0].ID)
	if len(seasons) != 3 || seasons[0].Title != "Specials" || seasons[1].Title != "Season 1" || seasons[2].SeasonNumber != 2 {
		t.Fatalf("seasons %+v", seasons)
	}
	eps := f.children(t, seasons[1].ID)
	if len(eps) != 3 || eps[0].Title != "Serenity" || !eps[0].Played || eps[1].EpisodeNumber != 2 {
		t.Fatalf("episodes %+v", eps)
	}
	resolve := func(id int64) library.Target {
		t.Helper()
		tg, err := f.svc.ResolvePlayback(ctx, id, library.ResolveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	tg := resolve(shows[0].ID)
	if tg.Item.SourceID != jt.Episode2ID || tg.Item.ID != imp.IDs[jt.Episode2ID] || tg.MediaType != "episode" ||
		tg.Playback.DurationSeconds != 258 || !strings.Contains(tg.Playback.StreamURL, "/Videos/"+jt.Episode2ID+"/stream") ||
		tg.Title != "Firefly – S01E02 – The Train Job" {
		t.Fatalf("show resolves to %+v", tg)
	}
	// Played state is read live from Jellyfin, not from the import.
	f.srv.SetPlayed(jt.AdminID, jt.Episode2ID, true)
	f.srv.SetPlayed(jt.AdminID, jt.Episode3ID, true)
	if tg = resolve(shows[0].ID); tg.Item.SourceID != jt.LooseEpID {
		t.Fatalf("after S01 watched: %+v", tg.Item)
	}
	f.srv.SetPlayed(jt.AdminID, jt.LooseEpID, true)
	if tg = resolve(shows[0].ID); tg.Item.SourceID != jt.SpecialID {
		t.Fatalf("specials come last: %+v", tg.Item)
	}
	f.srv.SetPlayed(jt.AdminID, jt.SpecialID, true)
	if tg = resolve(shows[0].ID); tg.Item.SourceID != jt.Episode1ID {
		t.Fatalf("all watched starts over: %+v", tg.Item)
	}
	f.srv.SetPlayed(jt.AdminID, jt.Episode3ID, false)
	if tg = resolve(seasons[1].ID); tg.Item.SourceID != jt.Episode3ID {
		t.Fatalf("season resolves to %+v", tg.Item)
	}
	if tg = resolve(seasons[2].ID); tg.Item.SourceID != jt.LooseEpID {
		t.Fatalf("made-up season resolves to %+v", tg.Item)
	}
}

func TestImportMusic(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	all, err := f.client.ImportAll(ctx, f.svc)
	if err != nil || len(all) != 3 {
		t.Fatalf("import all: %d %v", len(all), err)
	}
	libs, _ := f.svc.Libraries(ctx)
	var music library.Library
	for _, l := range libs {
		if l.Kind == library.KindMusic {
			music = l
		}
	}
	artists, _ := f.svc.Items(ctx, library.Query{LibraryIDs: []int64{music.ID}})
	if len(artists) != 1 || artists[0].Title != "Artist Y" {
		t.Fatalf("artists %+v", artists)
	}
	albums := f.children(t, artists[0].ID)
	if len(albums) != 1 || albums[0].Title != "Album X" || albums[0].Year != 1997 {
		t.Fatalf("albums %+v", albums)
	}
	tracks := f.children(t, albums[0].ID)
	if len(tracks) != 2 || tracks[0].Title != "Song A" || tracks[1].TrackNumber != 2 || tracks[0].DurationMs != 4000 || !tracks[0].HasPoster {
		t.Fatalf("tracks %+v", tracks)
	}
	tg, err := f.svc.ResolvePlayback(ctx, artists[0].ID, library.ResolveOptions{})
	if err != nil || tg.MediaType != "track" || tg.Item.ID != tracks[0].ID ||
		!strings.Contains(tg.Playback.StreamURL, "/Audio/"+jt.TrackA+"/universal?") ||
		!strings.Contains(tg.Playback.StreamURL, "UserId="+jt.AdminID) {
		t.Fatalf("artist resolves to %+v %v", tg, err)
	}
	f.srv.SetFile(jt.TrackA, testmedia.Generate(t, testmedia.MP3))
	resp, err := http.Get(tg.Playback.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want, _ := os.ReadFile(testmedia.Generate(t, testmedia.MP3))
	if resp.StatusCode != 200 || len(body) != len(want) {
		t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(body))
	}
}

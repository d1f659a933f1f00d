package tmdb_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/library/tmdb"
	"github.com/marquee-party/marquee/library/tmdb/tmdbtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newClient(t *testing.T, srv *tmdbtest.Server, cfg tmdb.Config) *tmdb.Client {
	t.Helper()
	cfg.BaseURL, cfg.ImageBaseURL = srv.BaseURL(), srv.ImageBaseURL()
	cfg.HTTPClient = srv.Client()
	c, err := tmdb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClient(t *testing.T) {
	srv := tmdbtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	for _, cfg := range []tmdb.Config{{APIKey: tmdbtest.APIKey}, {BearerToken: tmdbtest.BearerToken}} {
		name := "api key"
		if cfg.BearerToken != "" {
			name = "bearer"
		}
		t.Run(name, func(t *testing.T) {
			c := newClient(t, srv, cfg)
			res, err := c.SearchMovie(ctx, "matrix", 1999)
			if err != nil || len(res) != 1 || res[0].ID != 603 || res[0].ReleaseDate != "1999-03-30" {
				t.Fatalf("search movie: %+v %v", res, err)
			}
			if res, err = c.SearchMovie(ctx, "matrix", 0); err != nil || len(res) != 2 {
				t.Fatalf("search without year: %+v %v", res, err)
			}
			tv, err := c.SearchTV(ctx, "firefly", 2002)
			if err != nil || len(tv) != 1 || tv[0].Name != "Firefly" {
				t.Fatalf("search tv: %+v %v", tv, err)
			}
			m, err := c.Movie(ctx, 27205)
			if err != nil || m.IMDbID != "tt1375666" || m.Runtime != 148 || len(m.Genres) != 3 || m.Genres[0].Name != "Adventure" {
				t.Fatalf("movie: %+v %v", m, err)
			}
			d, err := c.TV(ctx, 1437)
			if err != nil || d.NumberOfSeasons != 1 || d.EpisodeRunTime[0] != 44 || len(d.Seasons) != 1 {
				t.Fatalf("tv: %+v %v", d, err)
			}
			im, err := c.Images(ctx, "movie", 603)
			if err != nil || len(im.Posters) != 1 || im.Posters[0].Width != 2000 {
				t.Fatalf("images: %+v %v", im, err)
			}
			img, err := c.FetchPoster(ctx, c.ImageURL(im.Posters[0].FilePath, "w342"))
			if err != nil || len(img) < 100 || img[0] != 0xFF {
				t.Fatalf("poster: %d bytes, %v", len(img), err)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		c := newClient(t, srv, tmdb.Config{APIKey: "wrong-key"})
		_, err := c.Movie(ctx, 603)
		var apiErr *tmdb.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 401 || apiErr.Code != 7 {
			t.Fatalf("bad key: %v", err)
		}
		if strings.Contains(err.Error(), "wrong-key") {
			t.Fatal("error leaks the API key")
		}
		c = newClient(t, srv, tmdb.Config{APIKey: tmdbtest.APIKey})
		if _, err := c.Movie(ctx, 1); !errors.Is(err, library.ErrNoMatch) || !errors.As(err, &apiErr) || apiErr.Code != 34 {
			t.Fatalf("missing movie: %v", err)
		}
		if _, err := c.FetchPoster(ctx, "http://elsewhere.example/x.jpg"); err == nil {
			t.Fatal("fetched an image outside the image base URL")
		}
		if _, err := tmdb.New(tmdb.Config{}); !errors.Is(err, tmdb.ErrNoCredentials) {
			t.Fatalf("no credentials: %v", err)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		c := newClient(t, srv, tmdb.Config{APIKey: tmdbtest.APIKey})
		srv.RateLimit(1)
		if m, err := c.Movie(ctx, 603); err != nil || m.Title != "The Matrix" {
			t.Fatalf("after one 429: %+v %v", m, err)
		}
		srv.RateLimit(2)
		_, err := c.Movie(ctx, 603)
		var apiErr *tmdb.APIError
		if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 429 || apiErr.Code != 25 {
			t.Fatalf("after two 429s: %v", err)
		}
	})
	t.Run("transport error hides key", func(t *testing.T) {
		c, err := tmdb.New(tmdb.Config{APIKey: "secret-key-123", BaseURL: "http://127.0.0.1:1/3",
			HTTPClient: &http.Client{Timeout: 2 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.SearchMovie(ctx, "x", 0)
		if err == nil || strings.Contains(err.Error(), "secret-key-123") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestLookup(t *testing.T) {
	srv := tmdbtest.NewServer()
	defer srv.Close()
	c := newClient(t, srv, tmdb.Config{APIKey: tmdbtest.APIKey})
	ctx := context.Background()
	tests := []struct {
		name    string
		q       library.LookupQuery
		title   string
		year    int
		wantErr error
	}{
		{"movie by title and year", library.LookupQuery{Kind: library.ItemMovie, Title: "Inception", Year: 2010}, "Inception", 2010, nil},
		{"wrong year falls back to title", library.LookupQuery{Kind: library.ItemMovie, Title: "The Matrix Reloaded", Year: 2001}, "The Matrix Reloaded", 2003, nil},
		{"known id", library.LookupQuery{Kind: library.ItemMovie, Title: "whatever", IDs: map[string]string{"tmdb": "603"}}, "The Matrix", 1999, nil},
		{"show", library.LookupQuery{Kind: library.ItemShow, Title: "Firefly", Year: 2002}, "Firefly", 2002, nil},
		{"no match", library.LookupQuery{Kind: library.ItemMovie, Title: "Nothing Like This"}, "", 0, library.ErrNoMatch},
		{"music is not tmdb's", library.LookupQuery{Kind: library.ItemTrack, Title: "x"}, "", 0, library.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md, err := c.Lookup(ctx, tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || md.Title != tt.title || md.Year != tt.year || md.Summary == "" || md.IDs["tmdb"] == "" {
				t.Fatalf("lookup: %+v %v", md, err)
			}
		})
	}
}

// TestScanWithProvider runs a real scan with TMDB configured: movies with no
// .nfo get the provider's summary, ids and poster; provider-less scans make
// no requests.
func TestScanWithProvider(t *testing.T) {
	srv := tmdbtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	root := t.TempDir()
	for _, rel := range []string{"Inception (2010)/Inception (2010).mkv", "The.Matrix.1999.1080p.mkv", "Unknown Film (1980).mkv"} {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("stub"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scan := func(providers ...library.Provider) (*library.Service, []library.Item) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"), log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		svc, err := library.New(library.Params{DB: db, DataDir: t.TempDir(), Logger: log, Providers: providers})
		if err != nil {
			t.Fatal(err)
		}
		if err := library.RunScanCLI(ctx, io.Discard, library.ScanCLIParams{Service: svc, Path: root, Kind: library.KindMovies}); err != nil {
			t.Fatal(err)
		}
		items, err := svc.Items(ctx, library.Query{})
		if err != nil {
			t.Fatal(err)
		}
		return svc, items
	}
	_, items := scan()
	if n := len(srv.Requests()); n != 0 || len(items) != 3 {
		t.Fatalf("provider off: %d requests, %d items", n, len(items))
	}
	_, items = scan(newClient(t, srv, tmdb.Config{APIKey: tmdbtest.APIKey}))
	byTitle := map[string]library.Item{}
	for _, it := range items {
		byTitle[it.Title] = it
	}
	inc := byTitle["Inception"]
	if !strings.HasPrefix(inc.Summary, "Cobb") || inc.ExternalIDs["imdb"] != "tt1375666" || !inc.HasPoster ||
		!slices.Contains(inc.Genres, "Science Fiction") {
		t.Errorf("inception %+v", inc)
	}
	if m := byTitle["The Matrix"]; m.ExternalIDs["tmdb"] != "603" || !m.HasPoster {
		t.Errorf("matrix %+v", m)
	}
	if u := byTitle["Unknown Film"]; u.Summary != "" || u.HasPoster {
		t.Errorf("unknown film %+v", u)
	}
}

// TestScanShowWithProvider: a show without tvshow.nfo gets TMDB's overview.
func TestScanShowWithProvider(t *testing.T) {
	srv := tmdbtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	root := t.TempDir()
	p := filepath.Join(root, "Firefly (2002)", "Season 01", "Firefly - S01E01 - Serenity.mkv")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("stub"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := library.New(library.Params{DB: db, DataDir: t.TempDir(), Logger: log,
		Providers: []library.Provider{newClient(t, srv, tmdb.Config{BearerToken: tmdbtest.BearerToken})}})
	if err != nil {
		t.Fatal(err)
	}
	if err := library.RunScanCLI(ctx, io.Discard, library.ScanCLIParams{Service: svc, Path: root, Kind: library.KindShows}); err != nil {
		t.Fatal(err)
	}
	shows, err := svc.Items(ctx, library.Query{})
	if err != nil || len(shows) != 1 {
		t.Fatalf("shows %+v %v", shows, err)
	}
	if s := shows[0]; s.Title != "Firefly" || !strings.HasPrefix(s.Summary, "Captain") || s.ExternalIDs["tmdb"] != "1437" ||
		!slices.Contains(s.Genres, "Western") {
		t.Errorf("show %+v", s)
	}
}

// TestScanFullAddsProviderMetadata: files scanned before a provider was
// configured get its metadata from a full rescan; edits are kept.
func TestScanFullAddsProviderMetadata(t *testing.T) {
	srv := tmdbtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "Inception (2010).mkv"), []byte("stub"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dataDir := t.TempDir()
	plain, err := library.New(library.Params{DB: db, DataDir: dataDir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := library.RunScanCLI(ctx, io.Discard, library.ScanCLIParams{Service: plain, Path: root, Kind: library.KindMovies}); err != nil {
		t.Fatal(err)
	}
	items, _ := plain.Items(ctx, library.Query{})
	genres := []string{"Mine"}
	if _, err := plain.EditItem(ctx, items[0].ID, library.Edit{Genres: &genres}); err != nil {
		t.Fatal(err)
	}
	withTMDB, err := library.New(library.Params{DB: db, DataDir: dataDir, Logger: log,
		Providers: []library.Provider{newClient(t, srv, tmdb.Config{APIKey: tmdbtest.APIKey})}})
	if err != nil {
		t.Fatal(err)
	}
	sc := library.NewScanner(library.ScannerParams{Service: withTMDB, Logger: log})
	defer sc.Close()
	if err := sc.ScanFull(ctx, items[0].LibraryID); err != nil {
		t.Fatal(err)
	}
	if p, err := sc.Wait(ctx, items[0].LibraryID); err != nil || p.Updated != 1 {
		t.Fatalf("full scan %+v %v", p, err)
	}
	it, err := withTMDB.Item(ctx, items[0].ID)
	if err != nil || !strings.HasPrefix(it.Summary, "Cobb") || !it.HasPoster || strings.Join(it.Genres, ",") != "Mine" {
		t.Fatalf("after full scan %+v %v", it, err)
	}
}

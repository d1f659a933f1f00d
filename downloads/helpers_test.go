package downloads

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// Users of the rig.
const (
	adminID  = 1
	memberID = 2
)

// rig is a real downloads service: SQLite, a scanned shows library of
// two 4 s episodes and a film, the VOD segment cache (2 s segments) and
// the files handler over HTTP.
type rig struct {
	t       testing.TB
	db      string
	dir     string
	lib     *library.Service
	vod     *vod.Service
	reg     *prometheus.Registry
	svc     *Service
	srv     *httptest.Server
	signer  *cdn.Signer
	season  library.Item
	show    library.Item
	film    library.Item
	episode []library.Item
	album   library.Item

	mu  sync.Mutex
	now time.Time
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func newRig(t testing.TB) *rig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := t.TempDir()
	r := &rig{t: t, db: filepath.Join(base, "marquee.db"), dir: filepath.Join(base, "downloads"), now: time.Now()}
	db, err := store.Open(ctx, r.db, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(`INSERT INTO users (id, username, display_name, role, created_at) VALUES
		(1, 'root', 'Root', 'admin', 0), (2, 'mem', 'Mem', 'member', 0)`); err != nil {
		t.Fatal(err)
	}
	r.lib, err = library.New(library.Params{DB: db, DataDir: filepath.Join(base, "data"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r.scanLibraries(base)
	cfg := vod.DefaultConfig()
	cfg.CacheDir, cfg.SegmentSeconds = filepath.Join(base, "vod"), 2
	r.reg = prometheus.NewRegistry()
	if r.vod, err = vod.New(cfg, r.reg, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.vod.Close)
	if r.signer, err = cdn.NewSigner([]byte(cdn.DevURLSecret)); err != nil {
		t.Fatal(err)
	}
	r.start()
	return r
}

// start (re)starts the downloads service on its own connection pool.
func (r *rig) start() {
	r.t.Helper()
	sqlDB, err := store.Open(context.Background(), r.db, slog.New(slog.DiscardHandler))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = sqlDB.Close() })
	r.svc, err = New(Params{DB: sqlDB, Catalog: r.lib, Media: r.vod, Signer: r.signer, Dir: r.dir, Now: r.clock, Registerer: prometheus.NewRegistry()})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(r.svc.Close)
	r.srv = httptest.NewServer(r.svc.Handler())
	r.t.Cleanup(r.srv.Close)
}

// scanLibraries places the media and scans a shows and a movies library.
func (r *rig) scanLibraries(base string) {
	t, ctx := r.t, context.Background()
	ep := testmedia.Generate(t, testmedia.H264AAC)
	shows, movies := filepath.Join(base, "shows"), filepath.Join(base, "movies")
	for _, rel := range []string{"Firefly (2002)/Season 01/Firefly - S01E01 - Serenity.mp4", "Firefly (2002)/Season 01/Firefly - S01E02 - The Train Job.mp4"} {
		copyFile(t, ep, filepath.Join(shows, rel))
	}
	copyFile(t, ep, filepath.Join(movies, "Alien (1979)", "Alien (1979).mp4"))
	music := filepath.Join(base, "music")
	copyFile(t, testmedia.Generate(t, testmedia.MP3), filepath.Join(music, "Tones", "First Light (2024)", "01 - Dawn.mp3"))
	srt := "1\r\n00:00:01,000 --> 00:00:02,500\r\nIn space no one can hear you scream.\r\n\r\n"
	if err := os.WriteFile(filepath.Join(movies, "Alien (1979)", "Alien (1979).en.srt"), []byte(srt), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := library.NewScanner(library.ScannerParams{Service: r.lib, Workers: 1})
	defer sc.Close()
	for _, l := range []struct {
		dir  string
		kind library.Kind
	}{{shows, library.KindShows}, {movies, library.KindMovies}, {music, library.KindMusic}} {
		lib, err := r.lib.CreateLibrary(ctx, string(l.kind), l.dir, l.kind)
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Scan(ctx, lib.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Wait(ctx, lib.ID); err != nil {
			t.Fatal(err)
		}
	}
	find := func(k library.ItemKind) []library.Item {
		its, err := r.lib.Items(ctx, library.Query{Kinds: []library.ItemKind{k}})
		if err != nil || len(its) == 0 {
			t.Fatalf("no %s scanned: %v", k, err)
		}
		return its
	}
	r.show, r.season, r.episode, r.film = find(library.ItemShow)[0], find(library.ItemSeason)[0], find(library.ItemEpisode), find(library.ItemMovie)[0]
	r.album = find(library.ItemAlbum)[0]
	if len(r.episode) != 2 {
		t.Fatalf("%d episodes scanned, want 2", len(r.episode))
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// user is a caller who sees every library (see) or none.
func user(id int64, admin, see bool) User {
	return User{ID: id, Admin: admin, CanSee: func(context.Context, int64) (bool, error) { return see, nil }}
}

var member = user(memberID, false, true)

// device registers a device for u.
func (r *rig) device(u User) Device {
	r.t.Helper()
	d, err := r.svc.RegisterDevice(context.Background(), u, "Laptop")
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// wait follows u's job events until job id leaves "preparing" and
// returns it. The deadline is a safety net for a hung encoder, not a
// timing assertion.
func (r *rig) wait(u User, id string) Job {
	r.t.Helper()
	ch, stop := r.svc.Subscribe(u)
	defer stop()
	deadline := time.After(3 * time.Minute)
	for {
		j, err := r.svc.Job(u, id)
		if err != nil {
			r.t.Fatal(err)
		}
		if j.State != JobPreparing {
			return j
		}
		select {
		case <-ch:
		case <-deadline:
			r.t.Fatalf("job %s still preparing: %+v", id, j)
		}
	}
}

// probe runs ffprobe on a file and decodes its JSON.
func probe(t *testing.T, path string, args ...string) map[string]any {
	t.Helper()
	a := append([]string{"-v", "error", "-of", "json"}, args...)
	out, err := exec.Command("ffprobe", append(a, path)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func testutilValue(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

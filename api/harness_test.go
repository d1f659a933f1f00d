package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/downloads"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
	"github.com/marquee-party/marquee/party/workertest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

const (
	workerSecret = "test-worker-secret"
	testPassword = "password123"
)

var inviteKey = []byte("test-invite-key")

// world is a real API over real HTTP and real SQLite, with the fake ingest
// worker speaking the real worker contract.
type world struct {
	t       testing.TB
	db      *sql.DB
	srv     *Server
	http    *httptest.Server
	auth    *auth.Store
	parties *party.Service
	lib     *library.Service
	dl      *downloads.Service
	worker  *workertest.Worker
	now     func() time.Time
	dataDir string
	cdnURL  string
}

type worldOpts struct {
	heartbeat time.Duration
	now       func() time.Time
	// cdn runs a real CDN node (package cdn) in front of the API's posters.
	cdn bool
	// signOnly gives the API a signing key but no CDN node (as --dev does).
	signOnly bool
	// trustedProxies are passed as Params.TrustedProxies.
	trustedProxies []netip.Prefix
	// cdnRepl is passed as Params.CDNRepl.
	cdnRepl *CDNReplParams
	// nodePSK turns CDN node registration on (cdnctl.Registry).
	nodePSK string
}

func newWorld(t testing.TB, o worldOpts) *world {
	t.Helper()
	if o.heartbeat == 0 {
		o.heartbeat = time.Second
	}
	if o.now == nil {
		o.now = time.Now
	}
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "marquee.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	w := &world{t: t, db: db, now: o.now, dataDir: dir}
	w.auth = auth.New(db, auth.Config{Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1}, Now: o.now})
	w.lib, err = library.New(library.Params{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w.worker, err = workertest.Start("127.0.0.1:0", workerSecret, o.heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.worker.Kill() })

	// The API listens first so the worker's callback URL is known.
	mux := http.NewServeMux()
	w.http = httptest.NewServer(mux)
	t.Cleanup(w.http.Close)
	hc := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	w.parties, err = party.New(party.Params{DB: db, Worker: party.NewWorkerClient(w.worker.URL(), workerSecret, hc),
		CallbackURL: w.http.URL + "/internal/worker/events",
		LiveKit:     party.LiveKitConfig{URL: "ws://127.0.0.1:7880", APIKey: "devkey", APISecret: "secret"},
		Resolver:    LibraryBridge{Lib: w.lib}, Catalog: LibraryBridge{Lib: w.lib},
		HeartbeatInterval: o.heartbeat, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.parties.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var cdnParams *CDNParams
	if o.cdn {
		signer, err := cdn.NewSigner([]byte(cdn.DevURLSecret))
		if err != nil {
			t.Fatal(err)
		}
		origin, _ := url.Parse(w.http.URL)
		node, err := cdn.New(cdn.Params{Origin: origin, OriginToken: "test-origin-token", Signer: signer,
			CacheDir: filepath.Join(dir, "cdn-cache"), MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		edge := httptest.NewServer(node)
		t.Cleanup(edge.Close)
		w.cdnURL = edge.URL
		cdnParams = &CDNParams{URL: edge.URL, Signer: signer, OriginToken: "test-origin-token"}
	}
	if o.signOnly {
		signer, err := cdn.NewSigner([]byte(cdn.DevURLSecret))
		if err != nil {
			t.Fatal(err)
		}
		cdnParams = &CDNParams{Signer: signer}
	}
	sc := library.NewScanner(library.ScannerParams{Service: w.lib, Workers: 1})
	t.Cleanup(func() { _ = sc.Close() })
	dlSigner, err := cdn.NewSigner([]byte(cdn.DevURLSecret))
	if err != nil {
		t.Fatal(err)
	}
	w.dl, err = downloads.New(downloads.Params{DB: db, Catalog: w.lib, Signer: dlSigner, Dir: filepath.Join(dir, "downloads"), Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.dl.Close)
	files := w.dl.Handler()
	if o.cdn {
		files.AllowOrigin(func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer test-origin-token" })
	}
	mux.Handle(downloads.FilesPrefix, files)
	var nodes CDNRegistry
	if o.nodePSK != "" {
		nodes = cdnctl.NewRegistry(cdnctl.RegistryParams{DB: db, PSK: []byte(o.nodePSK), URLSecret: []byte(cdn.DevURLSecret), Now: o.now})
	}
	w.srv, err = New(Params{CDNNodes: nodes, Downloads: w.dl, Auth: w.auth, Parties: w.parties, Library: w.lib, Scanner: sc, LibraryRoots: []string{dir},
		PublicURL: "http://marquee.test", InviteSecret: inviteKey, WorkerSecret: workerSecret, Now: o.now, CDN: cdnParams, CDNRepl: o.cdnRepl,
		TrustedProxies: o.trustedProxies, CDNHeartbeats: fakeCDNHeartbeats{}, CDNChooser: testChooser(db)})
	if err != nil {
		t.Fatal(err)
	}
	w.srv.Mount(mux)
	return w
}

// client is one browser (cookie jar) or bot (bearer token).
type client struct {
	w      *world
	hc     *http.Client
	bearer string
}

func (w *world) browser() *client {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	w.t.Cleanup(hc.CloseIdleConnections)
	return &client{w: w, hc: hc}
}

func (w *world) bot(secret string) *client {
	c := w.browser()
	c.bearer = secret
	return c
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) code() string {
	var e Error
	_ = json.Unmarshal(r.body, &e)
	return e.Code
}

func (c *client) do(method, path string, body any) resp {
	c.w.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = strings.NewReader(string(j))
	}
	req, err := http.NewRequest(method, c.w.http.URL+path, rd)
	if err != nil {
		c.w.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b, header: res.Header}
}

// must runs a request and fails the test unless it answers want.
func (c *client) must(want int, method, path string, body any, out any) resp {
	c.w.t.Helper()
	r := c.do(method, path, body)
	if r.status != want {
		c.w.t.Fatalf("%s %s = %d %s, want %d", method, path, r.status, r.body, want)
	}
	if out != nil {
		r.json(c.w.t, out)
	}
	return r
}

// user creates an account and returns a browser signed in as it.
func (w *world) user(name string, role auth.Role) (*client, auth.User) {
	w.t.Helper()
	u, err := w.auth.CreateUser(context.Background(), auth.NewUser{Username: name, Role: role, Password: testPassword})
	if err != nil {
		w.t.Fatal(err)
	}
	c := w.browser()
	c.must(200, "POST", "/api/auth/login", map[string]string{"username": name, "password": testPassword}, nil)
	return c, u
}

// eventually polls cond with a generous deadline; it asserts an outcome,
// never a duration.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// addItem inserts a playable library item with a poster, as a scan would.
func (w *world) addItem(title string) (libID, itemID int64) {
	w.t.Helper()
	root := filepath.Join(w.dataDir, "movies")
	_ = os.MkdirAll(root, 0o755)
	poster := filepath.Join(root, "poster-"+title+".jpg") // posters lie under their library root
	if err := os.WriteFile(poster, []byte("\xff\xd8\xff\xe0JPEGDATA-"+title), 0o644); err != nil {
		w.t.Fatal(err)
	}
	ctx := context.Background()
	lib, err := w.lib.FindLibrary(ctx, library.SourceLocal, root)
	if err != nil {
		lib, err = w.lib.CreateLibrary(ctx, "Movies", root, library.KindMovies)
		if err != nil {
			w.t.Fatal(err)
		}
	}
	err = w.db.QueryRow(`INSERT INTO library_items(library_id, kind, key, title, duration_ms, path, poster_path, added_at, updated_at)
		VALUES(?, 'movie', ?, ?, 600000, ?, ?, 0, 0) RETURNING id`, lib.ID, title+".mkv", title,
		filepath.Join(root, title+".mkv"), poster).Scan(&itemID)
	if err != nil {
		w.t.Fatal(err)
	}
	return lib.ID, itemID
}

package discordbridge_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/api/discordbridge"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/discord/discordtest"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
	"github.com/marquee-party/marquee/party/workertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

const (
	workerSecret = "test-worker-secret"
	publicURL    = "https://marquee.test"
	controlRole  = "700000000000000001"
)

var (
	inviteKey = []byte("test-invite-key-0123456789")
	host      = discordtest.Member{UserID: "500000000000000001", Roles: []string{controlRole}}
	stranger  = discordtest.Member{UserID: "500000000000000002", Roles: []string{"700000000000000999"}}
)

// stack is the control plane as cmd/api composes it (real SQLite, the real
// party service and API, the fake ingest worker) with the real bot talking
// to the fake Discord through the bridge.
type stack struct {
	db       *sql.DB
	accounts *auth.Store
	parties  *party.Service
	lib      *library.Service
	worker   *workertest.Worker
	api      *httptest.Server
	fake     *discordtest.Server
	o        discordtest.Options
	reg      *prometheus.Registry
	items    map[string]int64 // title → library item id
}

// newStack builds the stack; before runs once the control plane is up and
// before the party service, bot and bridge start (a party running when the
// API restarts).
func newStack(t *testing.T, before ...func(*stack)) *stack {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	db, err := store.Open(ctx, filepath.Join(dir, "marquee.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := &stack{db: db, reg: prometheus.NewRegistry(), items: map[string]int64{}}
	s.accounts = auth.New(db, auth.Config{Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1}})
	if s.lib, err = library.New(library.Params{DB: db, DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	s.addItems(t, dir, "Arrival", "Arsenic and Old Lace", "Blade Runner")
	if s.worker, err = workertest.Start("127.0.0.1:0", workerSecret, time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.worker.Kill)
	mux := http.NewServeMux()
	s.api = httptest.NewServer(mux)
	t.Cleanup(s.api.Close)
	hc := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	bridgeLib := api.LibraryBridge{Lib: s.lib}
	s.parties, err = party.New(party.Params{DB: db, Worker: party.NewWorkerClient(s.worker.URL(), workerSecret, hc),
		CallbackURL: s.api.URL + "/internal/worker/events", Resolver: bridgeLib, Catalog: bridgeLib,
		HeartbeatInterval: time.Second, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := cdn.NewSigner([]byte(cdn.DevURLSecret))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Params{Auth: s.accounts, Parties: s.parties, Library: s.lib, PublicURL: publicURL,
		InviteSecret: inviteKey, WorkerSecret: workerSecret, CDN: &api.CDNParams{Signer: signer}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(mux)

	if s.fake, err = discordtest.New(discordtest.Options{HeartbeatInterval: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	s.o = s.fake.Options()
	bridge, err := discordbridge.New(discordbridge.Params{Parties: s.parties, Library: s.lib, Accounts: s.accounts,
		PublicURL: publicURL, InviteSecret: inviteKey, PosterURL: srv.ExternalPosterURL, Logger: log, Registerer: s.reg})
	if err != nil {
		t.Fatal(err)
	}
	cfg := discord.DefaultConfig()
	cfg.Token, cfg.ApplicationID = s.o.Token, s.o.ApplicationID
	cfg.ControlRoles = map[string]string{s.o.GuildID: controlRole}
	cfg.EmbedInterval, cfg.RefreshInterval = 200*time.Millisecond, 5*time.Second
	bot, err := discord.New(discord.Params{Config: cfg, Parties: bridge, Info: bridge, Problems: bridge, Logger: log,
		Registry: s.reg, HTTPClient: s.fake.HTTPClient(), TLSConfig: s.fake.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range before {
		fn(s)
	}
	// Run the parts as lifecycle.Run would.
	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 3)
	go func() { errc <- s.parties.Run(rctx) }()
	go func() { errc <- bot.Run(rctx) }()
	go func() { errc <- bridge.Run(rctx, bot) }()
	t.Cleanup(func() {
		cancel()
		for range 3 {
			if err := <-errc; err != nil {
				t.Errorf("part: %v", err)
			}
		}
		s.fake.Close()
	})
	s.wait(t, "command registration", func(st *discordtest.State) bool { return len(st.Commands) == 8 })
	return s
}

// addItems inserts playable movies as a scan would.
func (s *stack) addItems(t *testing.T, dir string, titles ...string) {
	t.Helper()
	ctx := context.Background()
	root := filepath.Join(dir, "movies")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := s.lib.CreateLibrary(ctx, "Movies", root, library.KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	for n, title := range titles {
		path := filepath.Join(root, title+".mkv")
		if err := os.WriteFile(path, []byte("not really a movie"), 0o644); err != nil {
			t.Fatal(err)
		}
		var id int64
		err := s.db.QueryRow(`INSERT INTO library_items(library_id, kind, key, title, year, duration_ms, path, added_at, updated_at)
			VALUES(?, 'movie', ?, ?, ?, 600000, ?, 0, 0) RETURNING id`, l.ID, title+".mkv", title, 2000+n, path).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		s.items[title] = id
		// Every item has a poster, so embeds carry one.
		if err := s.lib.SetPosterImage(ctx, id, bytes.NewReader(append([]byte("\xff\xd8\xff\xe0"), title...))); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *stack) wait(t *testing.T, what string, cond func(*discordtest.State) bool) *discordtest.State {
	t.Helper()
	if err := s.fake.Wait(20*time.Second, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return s.fake.Snapshot()
}

// eventually polls cond (database state) until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// command runs a slash command and returns its final response.
func (s *stack) command(t *testing.T, m discordtest.Member, name string, opts ...discordtest.Option) discordtest.InteractionResponse {
	t.Helper()
	id, err := s.fake.Interact(discordtest.InteractionCommand, m, name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	st := s.wait(t, "response to /"+name, func(st *discordtest.State) bool {
		r := st.Responses[id]
		return len(r) > 0 && r[len(r)-1].Type != 5
	})
	r := st.Responses[id]
	return r[len(r)-1]
}

// embed returns the last embed message in the text channel, if any.
func (s *stack) embed(st *discordtest.State) (discordtest.Message, bool) {
	ms := st.MessagesIn(s.o.TextChannelID)
	for i := len(ms) - 1; i >= 0; i-- {
		if len(ms[i].Embeds) > 0 {
			return ms[i], true
		}
	}
	return discordtest.Message{}, false
}

func (s *stack) onlyParty(t *testing.T) party.Party {
	t.Helper()
	ps, err := s.parties.List(context.Background(), 0, true)
	if err != nil || len(ps) != 1 {
		t.Fatalf("parties = %+v, %v; want one", ps, err)
	}
	return ps[0]
}

func (s *stack) status(t *testing.T, id int64) party.Status {
	t.Helper()
	p, err := s.parties.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

// webApp calls the JSON API as a signed-in member with a bearer token.
type webApp struct {
	t     *testing.T
	base  string
	token string
}

func (s *stack) member(t *testing.T) *webApp {
	t.Helper()
	ctx := context.Background()
	u, err := s.accounts.CreateUser(ctx, auth.NewUser{Username: "alice", Role: auth.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.accounts.CreateToken(ctx, u.ID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &webApp{t: t, base: s.api.URL, token: secret}
}

func (w *webApp) do(method, path string, in, out any) {
	w.t.Helper()
	body, _ := json.Marshal(in)
	req, err := http.NewRequest(method, w.base+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		w.t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, e)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			w.t.Fatal(err)
		}
	}
}

func sub(name string, opts ...discordtest.Option) discordtest.Option {
	return discordtest.Option{Name: name, Type: 1, Options: opts}
}

func str(name, v string) discordtest.Option { return discordtest.Option{Name: name, Type: 3, Value: v} }

func itemOpt(id int64) discordtest.Option { return str("title", fmt.Sprint(id)) }

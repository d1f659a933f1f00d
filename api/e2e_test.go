package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
	"github.com/marquee-party/marquee/rooms"
)

// stack is the real SFU, ingest and API in-process on loopback, with a
// movies library holding one scanned 4 s clip.
type stack struct {
	t      *testing.T
	w      *world
	sfuURL string
	item   int64
	movies string
	// The ingest can be killed and restarted on the same address; its
	// callbacks pass through a relay that a kill silences, so a "crashed"
	// ingest says nothing more (as with SIGKILL).
	ingest     *ingest.Server
	ingestSrv  *http.Server
	ingestAddr string
	dead       atomic.Bool
}

const e2eKey, e2eKeySecret = "devkey", "e2e-sfu-secret"

func newStack(t *testing.T, heartbeat time.Duration) *stack {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	st := &stack{t: t}

	// SFU, with its RoomService on the same handler.
	rcfg := rooms.DefaultConfig()
	rcfg.ApplyDev()
	rcfg.Keys = map[string]string{e2eKey: e2eKeySecret}
	rcfg.RTC.UDPPort = 0
	sfu, err := rooms.NewServer(rooms.Params{Config: rcfg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sfuHTTP := httptest.NewServer(sfu)
	t.Cleanup(func() { sfuHTTP.CloseClientConnections(); _ = sfu.Close(); sfuHTTP.Close() })
	st.sfuURL = "ws" + strings.TrimPrefix(sfuHTTP.URL, "http")

	// A movies library holding one real clip, scanned.
	dir := t.TempDir()
	st.movies = filepath.Join(dir, "library", "movies")
	if err := os.MkdirAll(st.movies, 0o755); err != nil {
		t.Fatal(err)
	}
	clip, err := os.ReadFile(testmedia.Generate(t, testmedia.H264AAC))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.movies, "Test Pattern (2024).mp4"), clip, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "marquee.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	lib, err := library.New(library.Params{DB: db, DataDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	l, err := lib.CreateLibrary(ctx, "Movies", st.movies, library.KindMovies)
	if err != nil {
		t.Fatal(err)
	}
	sc := library.NewScanner(library.ScannerParams{Service: lib, Logger: quiet})
	t.Cleanup(func() { _ = sc.Close() })
	if err := sc.Scan(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := sc.Wait(ctx, l.ID); err != nil || p.Added != 1 {
		t.Fatalf("scan = %+v, %v", p, err)
	}

	// The API, and the relay the ingest's callbacks go through.
	mux := http.NewServeMux()
	apiHTTP := httptest.NewServer(mux)
	t.Cleanup(apiHTTP.Close)
	relay := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if st.dead.Load() {
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), "POST", apiHTTP.URL+"/internal/worker/events", r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			rw.WriteHeader(http.StatusBadGateway)
			return
		}
		res.Body.Close()
		rw.WriteHeader(res.StatusCode)
	}))
	t.Cleanup(relay.Close)
	st.startIngest(heartbeat)
	t.Cleanup(st.killIngest)

	accounts := auth.New(db, auth.Config{Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1}})
	lk := party.LiveKitConfig{URL: st.sfuURL, APIKey: e2eKey, APISecret: e2eKeySecret}
	hc := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	parties, err := party.New(party.Params{DB: db, Worker: party.NewWorkerClient("http://"+st.ingestAddr, workerSecret, hc),
		CallbackURL: relay.URL, Rooms: party.NewRoomService(lk), LiveKit: lk,
		Resolver: LibraryBridge{Lib: lib}, Catalog: LibraryBridge{Lib: lib}, Log: quiet, HeartbeatInterval: heartbeat})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = parties.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	srv, err := New(Params{Auth: accounts, Parties: parties, Library: lib, Scanner: sc, PublicURL: apiHTTP.URL,
		InviteSecret: inviteKey, WorkerSecret: workerSecret, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(mux)
	st.w = &world{t: t, http: apiHTTP, auth: accounts}
	items, err := lib.Items(ctx, library.Query{Search: "Test"})
	if err != nil || len(items) != 1 {
		t.Fatalf("items = %+v, %v", items, err)
	}
	st.item = items[0].ID
	return st
}

// startIngest runs a fresh ingest (no sessions) on the stack's address.
func (st *stack) startIngest(heartbeat time.Duration) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	icfg := ingest.DefaultConfig()
	icfg.Secret = workerSecret
	icfg.MediaRoots = []string{st.movies}
	icfg.HeartbeatInterval = heartbeat
	ing, err := ingest.New(ingest.Params{Config: icfg, Logger: quiet,
		Connector: &ingest.LiveKitConnector{URL: st.sfuURL, APIKey: e2eKey, APISecret: e2eKeySecret, Logger: quiet}})
	if err != nil {
		st.t.Fatal(err)
	}
	addr := st.ingestAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	eventually(st.t, "the ingest port", func() bool {
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	st.ingestAddr = ln.Addr().String()
	st.ingest, st.ingestSrv = ing, &http.Server{Handler: ing.Handler()}
	go func() { _ = st.ingestSrv.Serve(ln) }()
	st.dead.Store(false)
}

// killIngest stops the ingest as a crash would: its callbacks are cut first,
// so nothing it says while shutting down reaches the API.
func (st *stack) killIngest() {
	if st.ingest == nil {
		return
	}
	st.dead.Store(true)
	_ = st.ingestSrv.Close()
	st.ingest.Close()
	st.ingest = nil
}

// listener is a server-sdk-go participant that counts packets per track.
type listener struct {
	room    *lksdk.Room
	mu      sync.Mutex
	got     map[string]int
	readers sync.WaitGroup
}

func (st *stack) listen(ra RoomAccess) *listener {
	l := &listener{got: map[string]int{}}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		l.readers.Add(1)
		go func() {
			defer l.readers.Done()
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				l.mu.Lock()
				l.got[pub.Name()]++
				l.mu.Unlock()
			}
		}()
	}
	room, err := lksdk.ConnectToRoomWithToken(ra.URL, ra.Token, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		st.t.Fatalf("listener join: %v", err)
	}
	l.room = room
	st.t.Cleanup(func() { room.Disconnect(); l.readers.Wait() })
	return l
}

// waitMedia waits until both tracks have delivered n more packets.
func (l *listener) waitMedia(t *testing.T, n int) (video, audio int) {
	t.Helper()
	l.mu.Lock()
	v0, a0 := l.got["video"], l.got["audio"]
	l.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		l.mu.Lock()
		v, a := l.got["video"]-v0, l.got["audio"]-a0
		l.mu.Unlock()
		if v >= n && a >= n {
			return v, a
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener got video=%d audio=%d packets", v, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEndToEndInviteListenerGetsMediaCannotPublish: a party is made over
// the API from the scanned clip, the real ingest plays it into the real
// SFU, and a server-sdk-go listener using an invite-minted token receives
// video and audio but is refused publishing.
func TestEndToEndInviteListenerGetsMediaCannotPublish(t *testing.T) {
	st := newStack(t, 5*time.Second)
	w := st.w
	host, _ := w.user("host", auth.RoleMember)
	var items struct{ Items []library.Item }
	host.must(200, "GET", "/api/items?q=Test", nil, &items)
	if len(items.Items) != 1 || items.Items[0].Path != "" || items.Items[0].ID != st.item {
		t.Fatalf("items = %+v", items.Items)
	}
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": st.item}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]string{"role": "listener"}, &inv)
	var ra RoomAccess
	w.browser().must(200, "POST", "/api/join", map[string]string{"token": inv.Token, "displayName": "Lis"}, &ra)

	// The listener joins first; media starts when the host presses play.
	l := st.listen(ra)
	room := l.room
	perm := room.LocalParticipant.Permissions()
	if perm == nil || perm.CanPublish || !perm.CanSubscribe || !perm.CanPublishData {
		t.Fatalf("listener permissions = %+v", perm)
	}
	host.must(200, "POST", base+"/control", map[string]string{"action": "play"}, nil)
	v, a := l.waitMedia(t, 20)
	t.Logf("listener received %d video and %d audio packets", v, a)
	host.must(200, "GET", base, nil, &pv)
	if pv.Status != party.StatusPlaying && pv.Status != party.StatusStopped {
		t.Fatalf("party status %s", pv.Status)
	}

	// Publishing is refused: the SFU never acknowledges the track.
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}, "mic", "listener")
	if err != nil {
		t.Fatal(err)
	}
	_ = track.WriteSample(media.Sample{Data: []byte{0xfc}, Duration: 20 * time.Millisecond})
	if _, err := room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "mic"}); err == nil {
		t.Fatal("a listener published a track")
	}
	// The queue ran out (4 s clip): the ingest reported "ended" and the API stopped the party.
	eventually(t, "the party to stop at the end of the clip", func() bool {
		host.must(200, "GET", base, nil, &pv)
		return pv.Status == party.StatusStopped
	})
}

// TestEndToEndIngestKilledMidItemRecovers kills the real ingest in the
// middle of the clip (callbacks cut first, as with SIGKILL) and starts a
// fresh one on the same address: the API notices the silence, re-creates
// the worker session and replays the clip from the last position heard,
// and the listener gets media again.
func TestEndToEndIngestKilledMidItemRecovers(t *testing.T) {
	const hb = 200 * time.Millisecond
	st := newStack(t, hb)
	host, _ := st.w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": st.item}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var ra RoomAccess
	host.must(200, "POST", base+"/token", nil, &ra)
	l := st.listen(ra)
	host.must(200, "POST", base+"/control", map[string]string{"action": "play"}, nil)
	l.waitMedia(t, 10)
	var ws party.WorkerState
	eventually(t, "a heartbeat past 1 s", func() bool {
		host.must(200, "GET", base+"/worker", nil, &ws)
		return ws.PositionSeconds >= 1
	})
	host.must(200, "GET", base, nil, &pv)
	oldSession := pv.WorkerSessionID

	st.killIngest()
	host.must(200, "GET", base+"/worker", nil, &ws)
	last := ws.PositionSeconds
	eventually(t, "worker marked lost", func() bool {
		host.must(200, "GET", base+"/worker", nil, &ws)
		return ws.Status == party.WorkerLost
	})
	st.startIngest(hb)
	eventually(t, "recovery", func() bool {
		host.must(200, "GET", base, nil, &pv)
		return pv.Worker.Recoveries >= 1 && pv.WorkerSessionID != oldSession
	})
	v, a := l.waitMedia(t, 10)
	var evs struct{ Events []party.PartyEvent }
	host.must(200, "GET", base+"/log", nil, &evs)
	var start float64 = -1
	for _, e := range evs.Events {
		if e.Type == "worker.recovered" {
			var p struct{ PositionSeconds float64 }
			b, _ := json.Marshal(e.Payload)
			_ = json.Unmarshal(b, &p)
			start = p.PositionSeconds
		}
	}
	t.Logf("last heard %.2f s; replayed from %.2f s; listener got %d video, %d audio packets after recovery", last, start, v, a)
	if start < last || start < 1 {
		t.Fatalf("recovered at %.2f s, last known position %.2f s", start, last)
	}
}

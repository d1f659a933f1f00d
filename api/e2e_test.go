package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// TestEndToEndInviteListenerGetsMediaCannotPublish runs the real SFU, the
// real ingest and the real API in-process over loopback: a party is made
// over the API from a scanned clip, the ingest plays it into the SFU, and a
// server-sdk-go listener using an invite-minted token receives video and
// audio but is refused publishing.
func TestEndToEndInviteListenerGetsMediaCannotPublish(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	const key, keySecret = "devkey", "e2e-sfu-secret"

	// SFU, with its RoomService on the same handler.
	rcfg := rooms.DefaultConfig()
	rcfg.ApplyDev()
	rcfg.Keys = map[string]string{key: keySecret}
	rcfg.RTC.UDPPort = 0
	sfu, err := rooms.NewServer(rooms.Params{Config: rcfg, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sfuHTTP := httptest.NewServer(sfu)
	t.Cleanup(func() { sfuHTTP.CloseClientConnections(); _ = sfu.Close(); sfuHTTP.Close() })
	sfuURL := "ws" + strings.TrimPrefix(sfuHTTP.URL, "http")

	// A movies library holding one real clip, scanned.
	dir := t.TempDir()
	movies := filepath.Join(dir, "library", "movies")
	if err := os.MkdirAll(movies, 0o755); err != nil {
		t.Fatal(err)
	}
	clip, err := os.ReadFile(testmedia.Generate(t, testmedia.H264AAC))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(movies, "Test Pattern (2024).mp4"), clip, 0o644); err != nil {
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
	l, err := lib.CreateLibrary(ctx, "Movies", movies, library.KindMovies)
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

	// The ingest worker.
	icfg := ingest.DefaultConfig()
	icfg.Secret = workerSecret
	icfg.MediaRoots = []string{movies}
	ing, err := ingest.New(ingest.Params{Config: icfg, Logger: quiet,
		Connector: &ingest.LiveKitConnector{URL: sfuURL, APIKey: key, APISecret: keySecret, Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	ingHTTP := httptest.NewServer(ing.Handler())
	t.Cleanup(func() { ingHTTP.Close(); ing.Close() })

	// The API.
	mux := http.NewServeMux()
	apiHTTP := httptest.NewServer(mux)
	t.Cleanup(apiHTTP.Close)
	accounts := auth.New(db, auth.Config{Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1}})
	lk := party.LiveKitConfig{URL: sfuURL, APIKey: key, APISecret: keySecret}
	hc := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	parties, err := party.New(party.Params{DB: db, Worker: party.NewWorkerClient(ingHTTP.URL, workerSecret, hc),
		CallbackURL: apiHTTP.URL + "/internal/worker/events", Rooms: party.NewRoomService(lk), LiveKit: lk,
		Resolver: LibraryBridge{Lib: lib}, Catalog: LibraryBridge{Lib: lib}, Log: quiet})
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
	w := &world{t: t, http: apiHTTP, auth: accounts}

	host, _ := w.user("host", auth.RoleMember)
	var items struct{ Items []library.Item }
	host.must(200, "GET", "/api/items?q=Test", nil, &items)
	if len(items.Items) != 1 || items.Items[0].Path != "" {
		t.Fatalf("items = %+v", items.Items)
	}
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": items.Items[0].ID}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]string{"role": "listener"}, &inv)
	var ra RoomAccess
	w.browser().must(200, "POST", "/api/join", map[string]string{"token": inv.Token, "displayName": "Lis"}, &ra)

	// The listener joins first; media starts when the host presses play.
	var mu sync.Mutex
	got := map[string]int{}
	var readers sync.WaitGroup
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				mu.Lock()
				got[pub.Name()]++
				mu.Unlock()
			}
		}()
	}
	room, err := lksdk.ConnectToRoomWithToken(ra.URL, ra.Token, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		t.Fatalf("listener join: %v", err)
	}
	defer func() { room.Disconnect(); readers.Wait() }()
	perm := room.LocalParticipant.Permissions()
	if perm == nil || perm.CanPublish || !perm.CanSubscribe || !perm.CanPublishData {
		t.Fatalf("listener permissions = %+v", perm)
	}

	host.must(200, "POST", base+"/control", map[string]string{"action": "play"}, nil)
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		v, a := got["video"], got["audio"]
		mu.Unlock()
		if v > 20 && a > 20 {
			t.Logf("listener received %d video and %d audio packets", v, a)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener got video=%d audio=%d packets", v, a)
		}
		time.Sleep(20 * time.Millisecond)
	}
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

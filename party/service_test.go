package party

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/party/workertest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

type resolverFunc func(ctx context.Context, mt MediaType, id string) (Target, error)

func (f resolverFunc) Resolve(ctx context.Context, mt MediaType, id string) (Target, error) {
	return f(ctx, mt, id)
}

// fixture is a party service wired to a fake worker over real HTTP, with
// the worker's callbacks served by a test server.
type fixture struct {
	svc    *Service
	db     *sql.DB
	worker *workertest.Worker
	owner  int64
	cancel context.CancelFunc
	done   chan struct{}
}

const testSecret = "test-secret"

func newFixture(t *testing.T, heartbeat time.Duration) *fixture {
	t.Helper()
	return newFixtureWith(t, heartbeat, func(p *Params) { p.HeartbeatInterval = heartbeat }, true)
}

// newFixtureWith is newFixture with the fake worker heartbeating every
// heartbeat, the service's Params changed by mutate, and its watchdog
// (Run) started only with run.
func newFixtureWith(t *testing.T, heartbeat time.Duration, mutate func(*Params), run bool) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var owner int64
	if err := db.QueryRow(`INSERT INTO users(username, display_name, role, created_at) VALUES('host', 'Host', 'member', 0) RETURNING id`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, owner: owner}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev WorkerEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := f.svc.HandleWorkerEvent(r.Context(), ev); err != nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(cb.Close)
	f.worker, err = workertest.Start("127.0.0.1:0", testSecret, heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.worker.Kill() })
	hc := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(hc.CloseIdleConnections)
	params := Params{DB: db, Worker: NewWorkerClient(f.worker.URL(), testSecret, hc), CallbackURL: cb.URL,
		LiveKit: LiveKitConfig{URL: "ws://127.0.0.1:7880", APIKey: "devkey", APISecret: "secret"},
		Resolver: resolverFunc(func(_ context.Context, mt MediaType, id string) (Target, error) {
			if id == "missing" {
				return Target{}, errors.New("no such item")
			}
			return Target{MediaType: mt, Playback: Playback{ItemID: id, StreamURL: "/media/" + id, DurationSeconds: 600}}, nil
		})}
	mutate(&params)
	f.svc, err = New(params)
	if err != nil {
		t.Fatal(err)
	}
	if !run {
		return f
	}
	rctx, cancel := context.WithCancel(ctx)
	f.cancel, f.done = cancel, make(chan struct{})
	go func() { defer close(f.done); _ = f.svc.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-f.done })
	return f
}

// eventually polls cond until it holds or a generous deadline passes; it
// asserts an outcome, never a duration.
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

func (f *fixture) status(t *testing.T, id int64) Status {
	p, err := f.svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

func TestPlaybackAutoAdvanceAndHistory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 50*time.Millisecond)
	p, err := f.svc.Create(ctx, f.owner, NewParty{Title: "Friday"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); !errors.Is(err, ErrNothingToPlay) {
		t.Fatalf("play on draft: %v", err)
	}
	e1, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"})
	bad, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "missing", Title: "Gone"})
	e2, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaTrack, SourceID: "2", Title: "Two"})
	if got := f.status(t, p.ID); got != StatusQueued {
		t.Fatalf("status after enqueue = %s", got)
	}
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "playing", func() bool { return f.status(t, p.ID) == StatusPlaying })
	p, _ = f.svc.Get(ctx, p.ID)
	ses, ok := f.worker.Session(p.WorkerSessionID)
	if !ok || ses.QueueEntryID != fmt.Sprint(e1.ID) || ses.StreamURL != "/media/1" {
		t.Fatalf("worker session = %+v, %v", ses, ok)
	}

	if _, err := f.svc.Pause(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if ses, _ := f.worker.Session(p.WorkerSessionID); ses.State != "paused" || f.status(t, p.ID) != StatusPaused {
		t.Fatalf("after pause: worker %s, party %s", ses.State, f.status(t, p.ID))
	}
	if _, err := f.svc.Pause(ctx, p.ID); err != nil {
		t.Fatalf("second pause is idempotent: %v", err)
	}
	if _, err := f.svc.Seek(ctx, p.ID, 42); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resume(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resume(ctx, p.ID); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("resume while playing: %v", err)
	}
	if ses, _ := f.worker.Session(p.WorkerSessionID); ses.State != "playing" || ses.Position < 42 {
		t.Fatalf("after seek+resume: %+v", ses)
	}
	eventually(t, "heartbeat position", func() bool {
		ws, _ := f.svc.WorkerState(ctx, p.ID)
		return ws.PositionSeconds >= 42
	})

	// The item ends: the entry that cannot be resolved is passed over, and
	// the next one plays.
	f.worker.End(p.WorkerSessionID, "")
	eventually(t, "advance to entry 3", func() bool {
		ses, _ := f.worker.Session(p.WorkerSessionID)
		return ses.QueueEntryID == fmt.Sprint(e2.ID) && ses.State == "playing"
	})
	q, _ := f.svc.Queue(ctx, p.ID)
	want := map[int64]EntryStatus{e1.ID: EntryPlayed, bad.ID: EntryFailed, e2.ID: EntryPlaying}
	for _, e := range q {
		if e.Status != want[e.ID] {
			t.Fatalf("entry %d status %s, want %s", e.ID, e.Status, want[e.ID])
		}
	}
	h, _ := f.svc.History(ctx, f.owner)
	if len(h) == 0 || h[0].SourceID != "1" && !(len(h) > 1 && h[1].SourceID == "1") {
		t.Fatalf("history = %+v", h)
	}
	for _, x := range h {
		if x.SourceID == "1" && x.PlayCount != 1 {
			t.Fatalf("play count of 1 = %d", x.PlayCount)
		}
	}

	// The queue runs out: the party stops and the worker session goes.
	sid := p.WorkerSessionID
	f.worker.End(sid, "")
	eventually(t, "stopped", func() bool { return f.status(t, p.ID) == StatusStopped })
	eventually(t, "worker session deleted at the end of the queue", func() bool {
		_, ok := f.worker.Session(sid)
		return !ok
	})
	evs, _ := f.svc.Events(ctx, p.ID, 0, 0)
	if evs[len(evs)-1].Type != "queue.finished" {
		t.Fatalf("last event %s", evs[len(evs)-1].Type)
	}
}

func TestSkipStopAndReplay(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 50*time.Millisecond)
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Skip"})
	e1, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"})
	e2, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "2", Title: "Two"})
	if _, err := f.svc.Skip(ctx, p.ID); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("skip while queued: %v", err)
	}
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Skip(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Get(ctx, p.ID)
	if *p.CurrentEntryID != e2.ID {
		t.Fatalf("current after skip = %d", *p.CurrentEntryID)
	}
	if e, _ := f.svc.Entry(ctx, p.ID, e1.ID); e.Status != EntrySkipped {
		t.Fatalf("skipped entry status %s", e.Status)
	}
	if err := f.svc.RemoveEntry(ctx, p.ID, e2.ID); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("remove playing entry: %v", err)
	}
	if _, err := f.svc.Seek(ctx, p.ID, 120); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Stop(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "stop to delete the worker session", func() bool { return len(f.worker.Sessions()) == 0 })
	// Play after stop continues the stopped entry where it was.
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Get(ctx, p.ID)
	ses, _ := f.worker.Session(p.WorkerSessionID)
	if ses.QueueEntryID != fmt.Sprint(e2.ID) || ses.StartSeconds < 120 {
		t.Fatalf("replay after stop: %+v", ses)
	}
	// Reorder and explicit play of an earlier entry.
	if _, err := f.svc.Reorder(ctx, p.ID, []int64{e2.ID}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("partial reorder: %v", err)
	}
	q, err := f.svc.Reorder(ctx, p.ID, []int64{e2.ID, e1.ID})
	if err != nil || q[0].ID != e2.ID || q[1].Position != 2 {
		t.Fatalf("reorder = %+v, %v", q, err)
	}
}

func TestWorkerLossRecoversAtLastPosition(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 40*time.Millisecond)
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Crash"})
	e1, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"})
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Seek(ctx, p.ID, 300); err != nil {
		t.Fatal(err)
	}
	// Wait for a heartbeat sent after the seek (the seek itself records
	// exactly 300; a heartbeat sent before it may still be in flight).
	eventually(t, "heartbeat past 300 s", func() bool {
		ws, _ := f.svc.WorkerState(ctx, p.ID)
		return ws.PositionSeconds > 300.001 && f.status(t, p.ID) == StatusPlaying
	})
	p, _ = f.svc.Get(ctx, p.ID)
	oldSession := p.WorkerSessionID
	ws, _ := f.svc.WorkerState(ctx, p.ID)
	last := ws.PositionSeconds

	// Kill the worker, then bring a fresh one (no sessions) up on the same
	// address, as a restarted ingest.
	addr := f.worker.Addr()
	f.worker.Kill()
	eventually(t, "worker marked lost", func() bool {
		ws, _ := f.svc.WorkerState(ctx, p.ID)
		return ws.Status == WorkerLost
	})
	var err error
	eventually(t, "restart fake worker", func() bool {
		f.worker, err = workertest.Start(addr, testSecret, 40*time.Millisecond)
		return err == nil
	})
	eventually(t, "recovered", func() bool {
		ws, _ := f.svc.WorkerState(ctx, p.ID)
		return ws.Recoveries == 1 && ws.Status == WorkerActive
	})
	p, _ = f.svc.Get(ctx, p.ID)
	if p.WorkerSessionID == oldSession {
		t.Fatal("recovery reused the lost session id")
	}
	ses, ok := f.worker.Session(p.WorkerSessionID)
	if !ok || ses.QueueEntryID != fmt.Sprint(e1.ID) || ses.StartSeconds < last || ses.StartSeconds < 300 {
		t.Fatalf("recovered session = %+v (last position %.2f)", ses, last)
	}
	eventually(t, "playing again", func() bool { return f.status(t, p.ID) == StatusPlaying })
	evs, _ := f.svc.Events(ctx, p.ID, 0, 0)
	seen := map[string]bool{}
	for _, e := range evs {
		seen[e.Type] = true
	}
	if !seen["worker.lost"] || !seen["worker.recovered"] {
		t.Fatalf("events = %v", seen)
	}
}

func TestMembersHandOffAndTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Second)
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Members"})
	var guest, co int64
	_ = f.db.QueryRow(`INSERT INTO users(username, display_name, role, created_at) VALUES('g', 'Guest', 'guest', 0) RETURNING id`).Scan(&guest)
	_ = f.db.QueryRow(`INSERT INTO users(username, display_name, role, created_at) VALUES('c', 'Co', 'guest', 0) RETURNING id`).Scan(&co)
	if _, err := f.svc.Join(ctx, p.ID, guest, RoleListener); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Join(ctx, p.ID, co, RoleCohost); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Join(ctx, p.ID, co, RoleListener); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.svc.Member(ctx, p.ID, co); m.Role != RoleCohost {
		t.Fatalf("rejoin lowered cohost to %s", m.Role)
	}
	// The host leaves: the co-host takes over and the party goes on.
	nh, err := f.svc.Leave(ctx, p.ID, f.owner)
	if err != nil || nh == nil || nh.UserID != co {
		t.Fatalf("leave = %+v, %v", nh, err)
	}
	if _, err := f.svc.Get(ctx, p.ID); err != nil {
		t.Fatal("party gone after host left")
	}
	if _, err := f.svc.HandOff(ctx, p.ID, f.owner); !errors.Is(err, ErrNotFound) {
		t.Fatalf("hand-off to a member who left: %v", err)
	}
	if m, err := f.svc.HandOff(ctx, p.ID, guest); err != nil || m.Role != RoleHost {
		t.Fatalf("hand-off = %+v, %v", m, err)
	}
	if m, _ := f.svc.Member(ctx, p.ID, co); m.Role != RoleCohost {
		t.Fatalf("previous host is %s, want cohost", m.Role)
	}
	tok, err := f.svc.AccessToken(ctx, p.ID, guest, "tab1")
	if err != nil || tok.Role != RoleHost || tok.Room != p.Room || tok.Identity != TabIdentity(guest, "tab1") {
		t.Fatalf("token = %+v, %v", tok, err)
	}
	// Another tab of the same user is another participant of the same user.
	tok2, err := f.svc.AccessToken(ctx, p.ID, guest, "")
	if uid, ok := UserOfIdentity(tok2.Identity); err != nil || tok2.Identity == tok.Identity || !ok || uid != guest {
		t.Fatalf("second tab's token = %+v, %v", tok2, err)
	}
	if _, err := f.svc.AccessToken(ctx, p.ID, guest, "bad tab!"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a malformed tab: %v, want ErrInvalid", err)
	}
}

func TestResumeFromUserHistoryInAnotherParty(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 40*time.Millisecond)
	p1, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Monday"})
	if _, err := f.svc.Enqueue(ctx, p1.ID, NewEntry{MediaType: MediaMovie, SourceID: "7", Title: "Seven"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Play(ctx, p1.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Seek(ctx, p1.ID, 100); err != nil {
		t.Fatal(err)
	}
	eventually(t, "resume point past 100 s", func() bool {
		h, _ := f.svc.History(ctx, f.owner)
		return len(h) == 1 && h[0].PositionSeconds > 100 && h[0].PlayCount == 0
	})
	if _, err := f.svc.Stop(ctx, p1.ID); err != nil {
		t.Fatal(err)
	}
	// A new party of the same user picks the item up where they left it.
	p2, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Tuesday"})
	if _, err := f.svc.Enqueue(ctx, p2.ID, NewEntry{MediaType: MediaMovie, SourceID: "7", Title: "Seven"}); err != nil {
		t.Fatal(err)
	}
	p2, err := f.svc.Play(ctx, p2.ID, PlayOptions{ResumeUserID: f.owner})
	if err != nil {
		t.Fatal(err)
	}
	ses, ok := f.worker.Session(p2.WorkerSessionID)
	if !ok || ses.StartSeconds < 100 {
		t.Fatalf("resumed session = %+v", ses)
	}
}

// TestSilentButAliveWorkerIsNotRestarted: when the worker's callbacks do not
// arrive but it still has the session, the watchdog polls it instead of
// restarting it.
func TestSilentButAliveWorkerIsNotRestarted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 40*time.Millisecond)
	f.svc.callback = "http://127.0.0.1:1/nowhere" // events are lost
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Quiet"})
	if _, err := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the watchdog to poll the worker", func() bool {
		evs, _ := f.svc.Events(ctx, p.ID, 0, 0)
		return evs[len(evs)-1].Type == "worker.lost" && f.status(t, p.ID) == StatusPlaying
	})
	ws, _ := f.svc.WorkerState(ctx, p.ID)
	if ws.Recoveries != 0 || len(f.worker.Sessions()) != 1 {
		t.Fatalf("worker restarted: %+v, sessions %d", ws, len(f.worker.Sessions()))
	}
}

// TestClosedWorkerSessionIsReplaced: a worker session that still answers
// but reports "closed" (its pipeline ended) is not mistaken for a live one
// whose events are lost: the party gets a new session.
func TestClosedWorkerSessionIsReplaced(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 40*time.Millisecond)
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Closed"})
	if _, err := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the party to play", func() bool { return f.status(t, p.ID) == StatusPlaying })
	first := f.worker.Sessions()
	if len(first) != 1 {
		t.Fatalf("sessions = %d, want 1", len(first))
	}
	f.worker.Close(first[0].ID)
	eventually(t, "a new worker session playing the entry", func() bool {
		for _, s := range f.worker.Sessions() {
			if s.ID != first[0].ID && s.State == "playing" {
				return true
			}
		}
		return false
	})
	eventually(t, "the recovery to be recorded", func() bool {
		ws, _ := f.svc.WorkerState(ctx, p.ID)
		return ws.Recoveries >= 1 && ws.WorkerSessionID != first[0].ID
	})
}

// TestStopKeepsExactPosition: Stop saves where the worker is, not where
// the last heartbeat (seconds earlier) said, so resuming loses nothing.
func TestStopKeepsExactPosition(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Hour) // no heartbeat arrives during the test
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Stop"})
	if _, err := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"}); err != nil {
		t.Fatal(err)
	}
	start := 30.0
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{StartSeconds: &start}); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Get(ctx, p.ID)
	var at float64
	eventually(t, "the worker past 30.5 s", func() bool {
		ses, err := f.svc.worker.Session(ctx, p.WorkerSessionID)
		at = ses.PositionSeconds
		return err == nil && at > start+0.5
	})
	if _, err := f.svc.Stop(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	ws, err := f.svc.WorkerState(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ws.PositionSeconds < at {
		t.Fatalf("stopped at %.2f s, want at least %.2f s (where the worker was)", ws.PositionSeconds, at)
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// TestLostWorkerRecoveredWithin3sNear1sOfViewers runs the watchdog on a
// fake clock with the default heartbeat: the worker heartbeats while
// playing, then dies just before its next heartbeat, the worst moment.
// The party must restart the entry within 3 s of the loss, at a position
// within 1 s of the one viewers had reached.
func TestLostWorkerRecoveredWithin3sNear1sOfViewers(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	// The fake worker's own heartbeats never come: the test sends them.
	f := newFixtureWith(t, time.Hour, func(p *Params) { p.Now = clk.Now }, false)
	p, _ := f.svc.Create(ctx, f.owner, NewParty{Title: "Crash"})
	e1, _ := f.svc.Enqueue(ctx, p.ID, NewEntry{MediaType: MediaMovie, SourceID: "1", Title: "One"})
	if _, err := f.svc.Play(ctx, p.ID, PlayOptions{StartSeconds: ptrTo(100.0)}); err != nil {
		t.Fatal(err)
	}
	p, _ = f.svc.Get(ctx, p.ID)
	ses, ok := f.worker.Session(p.WorkerSessionID)
	if !ok || ses.HeartbeatMs <= 0 {
		t.Fatalf("worker session %+v: no heartbeat period asked for", ses)
	}
	period := time.Duration(ses.HeartbeatMs) * time.Millisecond
	start := clk.Now()
	var last float64
	for i := 1; i <= 5; i++ { // playing, one heartbeat per period
		at := start.Add(time.Duration(i) * period)
		clk.set(at)
		last = 100 + at.Sub(start).Seconds()
		if err := f.svc.HandleWorkerEvent(ctx, WorkerEvent{SessionID: p.WorkerSessionID, Type: WorkerHeartbeat,
			QueueEntryID: fmt.Sprint(e1.ID), PositionSeconds: last, PlaybackState: "playing", AtMs: at.UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		f.svc.checkWorkers(ctx)
	}
	if st := f.status(t, p.ID); st != StatusPlaying {
		t.Fatalf("status %s while heartbeating", st)
	}
	// The worker dies just before its next heartbeat; viewers saw media up
	// to then.
	lastBeat := clk.Now()
	lostAt := lastBeat.Add(period - time.Millisecond)
	viewers := last + lostAt.Sub(lastBeat).Seconds()
	f.worker.Close(p.WorkerSessionID)
	oldSession := p.WorkerSessionID
	for now := lastBeat; ; now = now.Add(f.svc.watchPeriod()) { // the watchdog's ticks
		clk.set(now)
		f.svc.checkWorkers(ctx)
		if ws, _ := f.svc.WorkerState(ctx, p.ID); ws.Recoveries == 1 {
			if took := now.Sub(lostAt); took > 3*time.Second {
				t.Fatalf("recovery started %v after the loss, want within 3 s", took)
			}
			t.Logf("recovery started %v after the loss (heartbeat %v)", now.Sub(lostAt), period)
			break
		}
		if now.Sub(lostAt) > time.Minute {
			t.Fatal("no recovery within a minute of the loss")
		}
	}
	p, _ = f.svc.Get(ctx, p.ID)
	ses, ok = f.worker.Session(p.WorkerSessionID)
	if !ok || p.WorkerSessionID == oldSession {
		t.Fatalf("no new worker session (%q)", p.WorkerSessionID)
	}
	if d := viewers - ses.StartSeconds; d < 0 || d > 1 {
		t.Fatalf("recovered at %.3f s, viewers were at %.3f s: want within 1 s behind", ses.StartSeconds, viewers)
	}
	t.Logf("recovered at %.3f s, viewers were at %.3f s", ses.StartSeconds, viewers)
}

func ptrTo[T any](v T) *T { return &v }

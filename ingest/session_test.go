package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/marquee-party/marquee/internal/roomconv"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/media"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	astiav.SetLogLevel(astiav.LogLevelFatal)
	goleak.VerifyTestMain(m)
}

const secret = "test-secret-123"

// fakeRoom records what a session publishes.
type fakeRoom struct {
	mu        sync.Mutex
	infos     []media.Info
	video     []media.Frame
	audio     []media.Frame
	playback  []PlaybackMessage
	attrs     []PlaybackMessage
	closed    bool
	onVideo   func(media.Frame) // may panic, to test isolation
	keyframes func(int)
	drop      func() // simulates losing the SFU
	onSend    func() // may panic, in the session's own goroutine
}

func (r *fakeRoom) Configure(i media.Info) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.infos = append(r.infos, i)
	return nil
}

func (r *fakeRoom) WriteVideo(f media.Frame) error {
	r.mu.Lock()
	r.video = append(r.video, f)
	cb := r.onVideo
	r.mu.Unlock()
	if cb != nil {
		cb(f)
	}
	return nil
}

func (r *fakeRoom) WriteAudio(f media.Frame) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audio = append(r.audio, f)
	return nil
}

func (r *fakeRoom) SendPlayback(b []byte, changed bool) error {
	if r.onSend != nil {
		r.onSend()
	}
	var m PlaybackMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.playback = append(r.playback, m)
	if changed {
		r.attrs = append(r.attrs, m)
	}
	return nil
}

func (r *fakeRoom) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

func (r *fakeRoom) counts() (v, a int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.video), len(r.audio)
}

// fakeConnector hands out one fakeRoom per identity.
type fakeConnector struct {
	mu        sync.Mutex
	rooms     map[string]*fakeRoom
	setup     func(identity string, r *fakeRoom)
	failJoins int // the next joins that fail, as if the SFU were down
}

func (c *fakeConnector) Join(_ context.Context, p JoinParams) (Room, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failJoins > 0 {
		c.failJoins--
		return nil, errors.New("connection refused")
	}
	r := &fakeRoom{keyframes: p.OnKeyframe, drop: p.OnDisconnected}
	if c.setup != nil {
		c.setup(p.Identity, r)
	}
	c.rooms[p.Identity] = r
	return r, nil
}

func (c *fakeConnector) room(id string) *fakeRoom {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rooms[roomconv.IngestIdentityPrefix+id]
}

// harness is a worker API server with a callback receiver.
type harness struct {
	t          *testing.T
	api        *httptest.Server
	cb         *httptest.Server
	srv        *Server
	conn       *fakeConnector
	mu         sync.Mutex
	events     map[string]chan Event
	heartbeats map[string][]Event
	root       string
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, conn: &fakeConnector{rooms: map[string]*fakeRoom{}}, events: map[string]chan Event{},
		heartbeats: map[string][]Event{}}
	h.cb = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secret {
			t.Errorf("callback without the secret")
		}
		var ev Event
		_ = json.NewDecoder(r.Body).Decode(&ev)
		if ev.Type != EventHeartbeat {
			h.eventCh(ev.SessionID) <- ev
			return
		}
		h.mu.Lock()
		h.heartbeats[ev.SessionID] = append(h.heartbeats[ev.SessionID], ev)
		h.mu.Unlock()
	}))
	h.root = filepath.Dir(testmedia.Generate(t, testmedia.H264AAC))
	cfg := DefaultConfig()
	cfg.Secret = secret
	cfg.MediaRoots = []string{h.root}
	cfg.PlaybackInterval = 200 * time.Millisecond
	cfg.HeartbeatInterval = 300 * time.Millisecond
	var err error
	h.srv, err = New(Params{Config: cfg, Connector: h.conn, Logger: slog.New(slog.NewTextHandler(testLogOut(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.api = httptest.NewServer(h.srv.Handler())
	t.Cleanup(func() {
		h.api.Close()
		h.srv.Close()
		h.cb.Close()
	})
	return h
}

func (h *harness) eventCh(id string) chan Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.events[id] == nil {
		h.events[id] = make(chan Event, 256)
	}
	return h.events[id]
}

// call does an authenticated request and decodes the JSON answer into out.
func (h *harness) call(method, path string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.api.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (h *harness) create(id string) {
	h.t.Helper()
	code := h.call("POST", "/sessions", CreateRequest{SessionID: id, Room: "party-" + id, CallbackURL: h.cb.URL}, nil)
	if code != http.StatusCreated {
		h.t.Fatalf("create: status %d", code)
	}
}

func (h *harness) play(id, entry, stream, download string, start float64) {
	h.t.Helper()
	req := PlayRequest{QueueEntryID: entry, Title: "Title " + entry, MediaType: "movie",
		Playback: PlaybackItem{ItemID: "item-" + entry, StreamURL: stream, DownloadURL: download, StartSeconds: start}}
	if code := h.call("POST", "/sessions/"+id+"/play", req, nil); code != http.StatusAccepted {
		h.t.Fatalf("play: status %d", code)
	}
}

func (h *harness) control(id, action string, pos *float64) int {
	h.t.Helper()
	return h.call("POST", "/sessions/"+id+"/control", ControlRequest{Action: action, PositionSeconds: pos}, nil)
}

// waitEvent returns the next non-heartbeat event of session id.
func (h *harness) waitEvent(id string, want string) Event {
	h.t.Helper()
	for {
		select {
		case ev := <-h.eventCh(id):
			if ev.Type == EventStarted && want == EventFailed {
				continue // bad media may start, then fail
			}
			if ev.Type != want {
				h.t.Fatalf("event %q (error %q), want %q", ev.Type, ev.Error, want)
			}
			return ev
		case <-time.After(30 * time.Second):
			h.t.Fatalf("no %q event", want)
		}
	}
}

func (h *harness) status(id string) SessionStatus {
	var st SessionStatus
	if code := h.call("GET", "/sessions/"+id, nil, &st); code != http.StatusOK {
		h.t.Fatalf("get: status %d", code)
	}
	return st
}

func TestAuthRefused(t *testing.T) {
	h := newHarness(t)
	routes := []struct{ method, path string }{
		{"POST", "/sessions"}, {"POST", "/sessions/a/play"}, {"POST", "/sessions/a/control"},
		{"GET", "/sessions/a"}, {"DELETE", "/sessions/a"},
	}
	for _, rt := range routes {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + secret + "x", secret, "Basic " + secret} {
			t.Run(rt.method+rt.path+"/"+auth, func(t *testing.T) {
				req, _ := http.NewRequest(rt.method, h.api.URL+rt.path, strings.NewReader(`{}`))
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var e APIError
				_ = json.NewDecoder(resp.Body).Decode(&e)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized || e.Code != "unauthorized" {
					t.Fatalf("status %d code %q", resp.StatusCode, e.Code)
				}
			})
		}
	}
	// With the secret, the same routes answer (404 for an unknown session).
	if code := h.call("GET", "/sessions/a", nil, nil); code != http.StatusNotFound {
		t.Fatalf("authenticated GET: %d", code)
	}
	for _, bad := range []CreateRequest{
		{SessionID: "", Room: "r"},
		{SessionID: "a/b", Room: "r"},
		{SessionID: "a", Room: ""},
		{SessionID: "a", Room: "r", CallbackURL: "file:///etc/passwd"},
	} {
		var e APIError
		if code := h.call("POST", "/sessions", bad, &e); code != http.StatusBadRequest || e.Code != "bad_request" {
			t.Errorf("create %+v: %d %q", bad, code, e.Code)
		}
	}
	h.create("dup")
	if code := h.call("POST", "/sessions", CreateRequest{SessionID: "dup", Room: "r"}, nil); code != http.StatusConflict {
		t.Errorf("duplicate session: %d", code)
	}
}

func TestPlayEndsAndAdvances(t *testing.T) {
	h := newHarness(t)
	h.create("s1")
	mp4 := testmedia.Generate(t, testmedia.H264AAC)
	h.play("s1", "e1", mp4, "", 2.5)
	h.waitEvent("s1", EventStarted)
	st := h.status("s1")
	if st.WorkerStatus != WorkerPlaying || st.CurrentTitle != "Title e1" || st.QueueEntryID != "e1" {
		t.Fatalf("status while playing: %+v", st)
	}
	ended := h.waitEvent("s1", EventEnded)
	if ended.QueueEntryID != "e1" || ended.PositionSeconds < 3.5 {
		t.Fatalf("ended event %+v", ended)
	}
	room := h.conn.room("s1")
	room.mu.Lock()
	if len(room.video) == 0 || !room.video[0].Keyframe || len(room.audio) == 0 {
		t.Errorf("room got %d video (first key %v), %d audio", len(room.video), len(room.video) > 0 && room.video[0].Keyframe, len(room.audio))
	}
	var sawAnchor bool
	for _, m := range room.attrs {
		if m.State == "playing" && m.VideoRTP != nil && m.AudioRTP != nil && m.ItemID == "item-e1" {
			sawAnchor = m.VideoRTP.PositionMs == 2500
		}
	}
	if !sawAnchor {
		t.Errorf("no playing message anchored at 2500 ms: %+v", room.attrs)
	}
	room.mu.Unlock()

	// The control plane advances the queue: an audio-only track next.
	room.mu.Lock()
	nAudio := len(room.audio)
	lastAudio := room.audio[nAudio-1]
	room.mu.Unlock()
	h.play("s1", "e2", testmedia.Generate(t, testmedia.MP3), "", 3)
	h.waitEvent("s1", EventStarted)
	h.waitEvent("s1", EventEnded)
	room.mu.Lock()
	last := room.infos[len(room.infos)-1]
	next := room.audio[nAudio]
	room.mu.Unlock()
	if d := int32(next.Timestamp - lastAudio.Timestamp); d < 960 {
		t.Fatalf("the next item's audio starts %d ticks after the previous one's last packet", d)
	}
	if last.HasVideo() || !last.HasAudio {
		t.Fatalf("music published %+v", last)
	}

	// A film without sound publishes video only.
	h.play("s1", "e3", testmedia.Generate(t, testmedia.VideoOnly), "", 3)
	h.waitEvent("s1", EventStarted)
	h.waitEvent("s1", EventEnded)
	room.mu.Lock()
	last = room.infos[len(room.infos)-1]
	room.mu.Unlock()
	if !last.HasVideo() || last.HasAudio {
		t.Fatalf("silent film published %+v", last)
	}
}

func TestFallbackAndFailures(t *testing.T) {
	h := newHarness(t)
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	mp4 := testmedia.Generate(t, testmedia.H264AAC)
	data, err := os.ReadFile(mp4)
	if err != nil {
		t.Fatal(err)
	}
	dropping := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Promise the whole file, send 40%, then cut the connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data[:len(data)*4/10])
		w.(http.Flusher).Flush()
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = c.Close()
		}
	}))
	defer dropping.Close()

	h.create("fb")
	h.play("fb", "e1", notFound.URL+"/Videos/1/stream.mp4?api_key=secret", mp4, 3)
	h.waitEvent("fb", EventStarted)
	h.waitEvent("fb", EventEnded)

	tests := []struct {
		name, stream, download, want string
	}{
		{"not media then truncated", testmedia.Generate(t, testmedia.NotMedia), testmedia.Generate(t, testmedia.Truncated), "then"},
		{"zero length", testmedia.Generate(t, testmedia.Empty), "", "cannot open media"},
		{"unsupported codec", testmedia.Generate(t, testmedia.UnsupportedCodec), "", "unsupported"},
		{"404", notFound.URL + "/x.mp4", "", "404"},
		{"dropped mid-stream", dropping.URL + "/film.mp4", "", "media stopped while playing"},
		{"outside roots", "/etc/passwd", "", "not allowed"},
	}
	// Another party plays on while this one chews through bad media.
	h.create("bystander")
	h.play("bystander", "b1", mp4, "", 0)
	h.waitEvent("bystander", EventStarted)
	for _, tt := range tests {
		h.play("fb", tt.name, tt.stream, tt.download, 0)
		ev := h.waitEvent("fb", EventFailed)
		if !strings.Contains(ev.Error, tt.want) || ev.QueueEntryID != tt.name {
			t.Fatalf("%s: failed event %+v, want error containing %q", tt.name, ev, tt.want)
		}
		if st := h.status("fb"); st.LastError != ev.Error || st.WorkerStatus != WorkerReady {
			t.Fatalf("%s: status %+v", tt.name, st)
		}
		if strings.Contains(ev.Error, "api_key=secret") {
			t.Fatalf("%s: error leaks the URL's query", tt.name)
		}
	}
	if ev := h.waitEvent("bystander", EventEnded); ev.PositionSeconds < 3.5 {
		t.Fatalf("bystander ended at %v", ev.PositionSeconds)
	}
}

func TestSessionsIsolated(t *testing.T) {
	h := newHarness(t)
	h.conn.setup = func(identity string, r *fakeRoom) {
		if identity == roomconv.IngestIdentityPrefix+"bad" {
			r.onVideo = func(media.Frame) { panic("boom") }
		}
	}
	mp4 := testmedia.Generate(t, testmedia.H264AAC)
	h.create("good")
	h.create("bad")
	h.play("good", "g1", mp4, "", 1)
	h.waitEvent("good", EventStarted)
	h.play("bad", "b1", mp4, "", 1)
	ev := h.waitEvent("bad", EventFailed)
	if !strings.Contains(ev.Error, "internal error") {
		t.Fatalf("bad session error %q", ev.Error)
	}
	v0, _ := h.conn.room("good").counts()
	for i := 0; ; i++ {
		if v1, _ := h.conn.room("good").counts(); v1 > v0 {
			break
		}
		if i > 1000 {
			t.Fatal("the good session stopped sending when the bad one failed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.waitEvent("good", EventEnded)
	if code := h.call("DELETE", "/sessions/bad", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if !h.conn.room("bad").closed {
		t.Fatal("room not left on delete")
	}
}

func TestControl(t *testing.T) {
	h := newHarness(t)
	h.create("c")
	if code := h.control("c", ActionPause, nil); code != http.StatusConflict {
		t.Fatalf("pause with nothing playing: %d", code)
	}
	h.play("c", "e1", testmedia.Generate(t, testmedia.H264AAC), "", 0)
	h.waitEvent("c", EventStarted)
	time.Sleep(300 * time.Millisecond)
	if code := h.control("c", ActionPause, nil); code != http.StatusOK {
		t.Fatalf("pause: %d", code)
	}
	paused := h.waitEvent("c", EventPaused)
	room := h.conn.room("c")
	v0, _ := room.counts()
	time.Sleep(300 * time.Millisecond)
	if v1, _ := room.counts(); v1 != v0 {
		t.Fatalf("%d frames while paused", v1-v0)
	}
	if st := h.status("c"); st.PlaybackState != "paused" || st.PositionSeconds != paused.PositionSeconds {
		t.Fatalf("paused status %+v, event %+v", st, paused)
	}
	if code := h.control("c", ActionResume, nil); code != http.StatusOK {
		t.Fatalf("resume: %d", code)
	}
	h.waitEvent("c", EventResumed)
	room.mu.Lock()
	resumed := room.video[v0]
	room.mu.Unlock()
	if !resumed.Keyframe || resumed.Position.Seconds() != paused.PositionSeconds {
		t.Fatalf("resumed with %+v at %v, paused at %v", resumed.Keyframe, resumed.Position, paused.PositionSeconds)
	}
	pos := 2.0
	if code := h.control("c", ActionSeek, &pos); code != http.StatusOK {
		t.Fatalf("seek: %d", code)
	}
	if code := h.control("c", ActionSeek, nil); code != http.StatusBadRequest {
		t.Fatalf("seek without position: %d", code)
	}
	if code := h.control("c", "rewind", nil); code != http.StatusBadRequest {
		t.Fatalf("unknown action: %d", code)
	}
	for i := 0; h.status("c").PositionSeconds < 2; i++ {
		if i > 1000 {
			t.Fatalf("position %v after seek to 2", h.status("c").PositionSeconds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := h.control("c", ActionSkip, nil); code != http.StatusOK {
		t.Fatalf("skip: %d", code)
	}
	h.waitEvent("c", EventEnded)
	if code := h.control("c", ActionStop, nil); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	room.mu.Lock()
	last := room.infos[len(room.infos)-1]
	room.mu.Unlock()
	if last.HasVideo() || last.HasAudio {
		t.Fatalf("stop left tracks published: %+v", last)
	}
}

func TestRejoinAfterSFULoss(t *testing.T) {
	h := newHarness(t)
	h.create("r")
	h.play("r", "e1", testmedia.Generate(t, testmedia.H264AAC), "", 1)
	h.waitEvent("r", EventStarted)
	first := h.conn.room("r")
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; !cond(); i++ {
			if i > 3000 {
				t.Fatalf("timed out: %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	eventually("frames before the drop", func() bool { v, _ := first.counts(); return v > 10 })
	first.mu.Lock()
	lastPos := first.video[len(first.video)-1].Position
	first.mu.Unlock()
	h.conn.mu.Lock()
	h.conn.failJoins = 1 // the SFU is still down at the first attempt
	h.conn.mu.Unlock()
	first.drop()
	eventually("a new room", func() bool { return h.conn.room("r") != first })
	second := h.conn.room("r")
	eventually("frames in the new room", func() bool { v, _ := second.counts(); return v > 0 })
	second.mu.Lock()
	f := second.video[0]
	second.mu.Unlock()
	if !f.Keyframe || f.Position < lastPos-500*time.Millisecond {
		t.Fatalf("resumed in the new room with key=%v at %v; was at %v", f.Keyframe, f.Position, lastPos)
	}
	first.mu.Lock()
	closed := first.closed
	first.mu.Unlock()
	if !closed {
		t.Fatal("the dropped room was not closed")
	}
	h.waitEvent("r", EventEnded)
}

func TestHeartbeatsAndPlaybackTicks(t *testing.T) {
	h := newHarness(t)
	h.create("hb")
	h.play("hb", "e1", testmedia.Generate(t, testmedia.H264AAC), "", 0)
	h.waitEvent("hb", EventStarted)
	room := h.conn.room("hb")
	for i := 0; ; i++ {
		h.mu.Lock()
		hbs := append([]Event(nil), h.heartbeats["hb"]...)
		h.mu.Unlock()
		room.mu.Lock()
		ticks := len(room.playback) - len(room.attrs) // periodic, unchanged messages
		room.mu.Unlock()
		if len(hbs) >= 2 && ticks >= 3 {
			last := hbs[len(hbs)-1]
			if last.SessionID != "hb" || last.QueueEntryID != "e1" || last.AtMs == 0 {
				t.Fatalf("heartbeat %+v", last)
			}
			break
		}
		if i > 3000 {
			t.Fatalf("%d heartbeats, %d playback ticks", len(hbs), ticks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSessionPanicContained: a panic in the session goroutine itself fails
// that session only; the worker and its other sessions carry on, and
// shutdown does not hang.
func TestSessionPanicContained(t *testing.T) {
	h := newHarness(t)
	h.conn.setup = func(identity string, r *fakeRoom) {
		if identity == roomconv.IngestIdentityPrefix+"crash" {
			r.onSend = func() { panic("session bug") }
		}
	}
	mp4 := testmedia.Generate(t, testmedia.H264AAC)
	h.create("ok")
	h.play("ok", "o1", mp4, "", 2)
	h.waitEvent("ok", EventStarted)
	h.create("crash")
	h.call("POST", "/sessions/crash/play", PlayRequest{QueueEntryID: "c1", Playback: PlaybackItem{StreamURL: mp4}}, nil)
	ev := h.waitEvent("crash", EventFailed)
	if !strings.Contains(ev.Error, "session bug") {
		t.Fatalf("failed event %+v", ev)
	}
	if st := h.status("crash"); st.WorkerStatus != WorkerClosed && st.WorkerStatus != WorkerFailed {
		t.Fatalf("crashed session status %+v", st)
	}
	if code := h.call("POST", "/sessions/crash/control", ControlRequest{Action: ActionPause}, nil); code != http.StatusGone {
		t.Fatalf("control on a crashed session: %d", code)
	}
	h.waitEvent("ok", EventEnded)
}

func testLogOut() io.Writer {
	if os.Getenv("INGEST_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// TestCreateHeartbeatPeriod: a session takes the heartbeat period the
// control plane asks for (workerapi.CreateSession.HeartbeatMs), and a
// period too short to keep up with is refused with a 400 that says why.
func TestCreateHeartbeatPeriod(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		ms   int64
		want int
	}{
		{0, http.StatusCreated}, // the worker's default
		{1000, http.StatusCreated},
		{100, http.StatusCreated},
		{99, http.StatusBadRequest},
		{-1, http.StatusBadRequest},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(tt.ms), func(t *testing.T) {
			var out map[string]any
			code := h.call("POST", "/sessions", CreateRequest{SessionID: fmt.Sprintf("hb-%d", i), Room: "party-hb",
				HeartbeatMs: tt.ms}, &out)
			if code != tt.want {
				t.Fatalf("status %d, want %d (%v)", code, tt.want, out)
			}
		})
	}
}

// Package workertest is a fake ingest worker that speaks the real worker
// HTTP contract (bearer auth, /sessions routes, JSON errors, event
// callbacks with heartbeats) without decoding any media, so the control
// plane's tests can start, kill and restart "the ingest" at will.
package workertest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// Session is the fake's state for one worker session.
type Session struct {
	ID            string
	Room          string
	CallbackURL   string
	HeartbeatMs   int64 // the heartbeat period the control plane asked for
	QueueEntryID  string
	Title         string
	StreamURL     string
	State         string // loading, playing, paused, stopped
	WorkerStatus  string // workerapi.Status*: ready, playing, closed
	Position      float64
	Duration      float64
	StartSeconds  float64
	Plays         int
	LastAction    string
	startedAt     time.Time
	startPosition float64
}

// Worker is a running fake. Position advances in real time while playing.
type Worker struct {
	Secret    string
	Heartbeat time.Duration

	mu       sync.Mutex
	sessions map[string]*Session
	srv      *http.Server
	ln       net.Listener
	ctx      context.Context // cancelled by Kill: no callback outlives a crash
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	hc       *http.Client
}

// Start serves a fake worker on addr ("127.0.0.1:0" for any port).
func Start(addr, secret string, heartbeat time.Duration) (*Worker, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Worker{Secret: secret, Heartbeat: heartbeat, sessions: map[string]*Session{}, ln: ln, ctx: ctx, cancel: cancel,
		hc: &http.Client{Timeout: 5 * time.Second}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sessions", w.auth(w.create))
	mux.HandleFunc("POST /sessions/{id}/play", w.auth(w.play))
	mux.HandleFunc("POST /sessions/{id}/control", w.auth(w.control))
	mux.HandleFunc("GET /sessions/{id}", w.auth(w.get))
	mux.HandleFunc("DELETE /sessions/{id}", w.auth(w.delete))
	w.srv = &http.Server{Handler: mux}
	w.wg.Add(2)
	go func() { defer w.wg.Done(); _ = w.srv.Serve(ln) }()
	go func() { defer w.wg.Done(); w.heartbeats(ctx) }()
	return w, nil
}

// URL is the fake's base URL.
func (w *Worker) URL() string { return "http://" + w.ln.Addr().String() }

// Addr is the listening address, to restart a fake on the same port.
func (w *Worker) Addr() string { return w.ln.Addr().String() }

// Kill stops the fake abruptly, as a crashed ingest: no more answers and
// no more heartbeats.
func (w *Worker) Kill() {
	w.cancel()
	_ = w.srv.Close()
	w.wg.Wait()
}

// Session returns a copy of a session's state.
func (w *Worker) Session(id string) (Session, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.sessions[id]
	if !ok {
		return Session{}, false
	}
	c := *s
	c.Position = w.position(s)
	return c, true
}

// Sessions returns copies of every session.
func (w *Worker) Sessions() []Session {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []Session{}
	for _, s := range w.sessions {
		c := *s
		c.Position = w.position(s)
		out = append(out, c)
	}
	return out
}

// End makes the current item of session id end (or fail, with errMsg) and
// POSTs the event, as the real worker does at the end of a file.
func (w *Worker) End(id, errMsg string) {
	w.mu.Lock()
	s, ok := w.sessions[id]
	if !ok {
		w.mu.Unlock()
		return
	}
	typ := "ended"
	if errMsg != "" {
		typ = "failed"
	}
	ev := event{SessionID: id, Type: typ, QueueEntryID: s.QueueEntryID, PositionSeconds: w.position(s),
		PlaybackState: "stopped", Error: errMsg, AtMs: time.Now().UnixMilli()}
	s.State = "stopped"
	url := s.CallbackURL
	w.mu.Unlock()
	w.post(w.ctx, url, ev)
}

// Close ends a session the way the real worker's does when its pipeline
// stops for good (say, its SFU room is gone): it stays listed, reports
// workerStatus "closed" and sends no more heartbeats.
func (w *Worker) Close(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.sessions[id]; ok {
		s.startPosition, s.State, s.WorkerStatus = w.position(s), "stopped", workerapi.StatusClosed
	}
}

func (w *Worker) position(s *Session) float64 {
	if s.State != "playing" {
		return s.startPosition
	}
	return s.startPosition + time.Since(s.startedAt).Seconds()
}

// event is the worker's callback body.
type event = workerapi.Event

func (w *Worker) heartbeats(ctx context.Context) {
	t := time.NewTicker(w.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		type out struct {
			url string
			ev  event
		}
		var evs []out
		for _, s := range w.sessions {
			if s.CallbackURL == "" || s.WorkerStatus == workerapi.StatusClosed {
				continue
			}
			evs = append(evs, out{s.CallbackURL, event{SessionID: s.ID, Type: "heartbeat", QueueEntryID: s.QueueEntryID,
				PositionSeconds: w.position(s), PlaybackState: s.State, AtMs: time.Now().UnixMilli()}})
		}
		w.mu.Unlock()
		for _, e := range evs {
			w.post(ctx, e.url, e.ev)
		}
	}
}

func (w *Worker) post(ctx context.Context, url string, ev event) {
	b, _ := json.Marshal(ev)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+w.Secret)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := w.hc.Do(req); err == nil {
		resp.Body.Close()
	}
}

func writeErr(rw http.ResponseWriter, status int, code, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"code": code, "message": msg})
}

func (w *Worker) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+w.Secret {
			writeErr(rw, http.StatusUnauthorized, "unauthorized", "bad bearer secret")
			return
		}
		h(rw, r)
	}
}

func (w *Worker) create(rw http.ResponseWriter, r *http.Request) {
	var req workerapi.CreateSession
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.SessionID == "" || req.Room == "" {
		writeErr(rw, http.StatusBadRequest, "bad_request", "sessionId and room are required")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.sessions[req.SessionID]; ok {
		writeErr(rw, http.StatusConflict, "exists", "session exists")
		return
	}
	w.sessions[req.SessionID] = &Session{ID: req.SessionID, Room: req.Room, CallbackURL: req.CallbackURL, HeartbeatMs: req.HeartbeatMs, State: "stopped",
		WorkerStatus: workerapi.StatusReady}
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(rw).Encode(map[string]string{"sessionId": req.SessionID, "workerStatus": "ready"})
}

func (w *Worker) play(rw http.ResponseWriter, r *http.Request) {
	var req workerapi.Play
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.QueueEntryID == "" || req.Playback.StreamURL == "" {
		writeErr(rw, http.StatusBadRequest, "bad_request", "queueEntryId and playback.streamUrl are required")
		return
	}
	w.mu.Lock()
	s, ok := w.sessions[r.PathValue("id")]
	if !ok {
		w.mu.Unlock()
		writeErr(rw, http.StatusNotFound, "not_found", "no such session")
		return
	}
	s.QueueEntryID, s.Title, s.StreamURL = req.QueueEntryID, req.Title, req.Playback.StreamURL
	s.Duration, s.StartSeconds, s.startPosition = req.Playback.DurationSeconds, req.Playback.StartSeconds, req.Playback.StartSeconds
	s.State, s.startedAt, s.WorkerStatus = "playing", time.Now(), workerapi.StatusPlaying
	s.Plays++
	ev := event{SessionID: s.ID, Type: "started", QueueEntryID: s.QueueEntryID, PositionSeconds: s.startPosition,
		PlaybackState: "playing", AtMs: time.Now().UnixMilli()}
	url := s.CallbackURL
	w.mu.Unlock()
	rw.WriteHeader(http.StatusAccepted)
	if url != "" {
		// The real worker reports "started" once media flows, after the reply.
		go w.post(w.ctx, url, ev)
	}
}

func (w *Worker) control(rw http.ResponseWriter, r *http.Request) {
	var req workerapi.Control
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		writeErr(rw, http.StatusBadRequest, "bad_request", "bad JSON")
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.sessions[r.PathValue("id")]
	if !ok {
		writeErr(rw, http.StatusNotFound, "not_found", "no such session")
		return
	}
	s.LastAction = req.Action
	switch strings.ToLower(req.Action) {
	case "pause":
		s.startPosition, s.State = w.position(s), "paused"
	case "resume":
		s.State, s.startedAt = "playing", time.Now()
	case "seek":
		if req.PositionSeconds == nil {
			writeErr(rw, http.StatusBadRequest, "bad_request", "positionSeconds required")
			return
		}
		s.startPosition, s.startedAt = *req.PositionSeconds, time.Now()
	case "stop", "skip":
		s.startPosition, s.State = w.position(s), "stopped"
	default:
		writeErr(rw, http.StatusBadRequest, "bad_request", "unknown action")
		return
	}
	rw.WriteHeader(http.StatusAccepted)
}

func (w *Worker) get(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.sessions[r.PathValue("id")]
	if !ok {
		writeErr(rw, http.StatusNotFound, "not_found", "no such session")
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(workerapi.Status{SessionID: s.ID, WorkerStatus: s.WorkerStatus, PlaybackState: s.State,
		CurrentTitle: s.Title, QueueEntryID: s.QueueEntryID, PositionSeconds: w.position(s), DurationSeconds: s.Duration})
}

func (w *Worker) delete(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.sessions[r.PathValue("id")]; !ok {
		writeErr(rw, http.StatusNotFound, "not_found", "no such session")
		return
	}
	delete(w.sessions, r.PathValue("id"))
	rw.WriteHeader(http.StatusNoContent)
}

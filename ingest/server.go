package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// Params builds a Server.
type Params struct {
	Config    Config
	Connector Connector
	// HTTPClient posts callbacks; one with Config.CallbackTimeout when nil.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Server holds the worker's sessions and serves the worker API.
type Server struct {
	cfg     Config
	conn    Connector
	client  *http.Client
	log     *slog.Logger
	metrics *Metrics
	ctx     context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	sessions map[string]*session
	closed   bool
}

// New returns a Server; Close stops every session.
func New(p Params) (*Server, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	if p.Connector == nil {
		return nil, fmt.Errorf("ingest: no connector")
	}
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	client := p.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: p.Config.CallbackTimeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg: p.Config, conn: p.Connector, client: client, log: log,
		metrics: NewMetrics(p.Registerer), ctx: ctx, cancel: cancel,
		sessions: map[string]*session{},
	}, nil
}

// sessionID limits ids to what is safe in a participant identity and a URL.
var sessionIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// Create starts a session that joins req.Room.
func (s *Server) Create(req CreateRequest) (SessionStatus, error) {
	if !sessionIDPattern.MatchString(req.SessionID) || req.Room == "" {
		return SessionStatus{}, fmt.Errorf("%w: sessionId (1-128 of A-Z a-z 0-9 _ . : -) and room are required", ErrBadRequest)
	}
	if u, err := url.Parse(req.CallbackURL); req.CallbackURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return SessionStatus{}, fmt.Errorf("%w: callbackUrl must be an http(s) URL", ErrBadRequest)
	}
	cfg := s.cfg
	switch {
	case req.HeartbeatMs < 0 || req.HeartbeatMs > 0 && req.HeartbeatMs < workerapi.MinHeartbeatMs:
		return SessionStatus{}, fmt.Errorf("%w: heartbeatMs must be 0 (the worker's default) or at least %d",
			ErrBadRequest, workerapi.MinHeartbeatMs)
	case req.HeartbeatMs > 0:
		cfg.HeartbeatInterval = time.Duration(req.HeartbeatMs) * time.Millisecond
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return SessionStatus{}, ErrSessionClosed
	}
	if _, ok := s.sessions[req.SessionID]; ok {
		return SessionStatus{}, ErrSessionExists
	}
	n := newNotifier(req.CallbackURL, s.cfg.Secret, s.client, s.cfg.CallbackTimeout, s.log.With("session", req.SessionID), s.metrics)
	sess := newSession(req.SessionID, req.Room, cfg, s.conn, n, s.log, s.metrics)
	s.sessions[req.SessionID] = sess
	s.metrics.sessions.Inc()
	sess.start(s.ctx)
	return sess.status(), nil
}

func (s *Server) get(id string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return nil, ErrSessionNotFound
	}
	return sess, nil
}

// Play plays one item in session id.
func (s *Server) Play(ctx context.Context, id string, req PlayRequest) error {
	sess, err := s.get(id)
	if err != nil {
		return err
	}
	if req.Playback.StreamURL == "" && req.Playback.DownloadURL == "" {
		return fmt.Errorf("%w: %w", ErrBadRequest, ErrNoSource)
	}
	if !workerapi.ValidPosition(req.Playback.StartSeconds) {
		return fmt.Errorf("%w: startSeconds must be between 0 and %d", ErrBadRequest, workerapi.MaxPositionSeconds)
	}
	return sess.do(ctx, command{kind: cmdPlay, play: req})
}

// Control applies a pause, resume, seek, skip or stop.
func (s *Server) Control(ctx context.Context, id string, req ControlRequest) error {
	if !workerapi.KnownAction(req.Action) {
		return &APIError{Status: http.StatusBadRequest, Code: workerapi.CodeUnknownAction,
			Message: fmt.Sprintf("unknown action %q; use pause, resume, seek, skip or stop", req.Action)}
	}
	if req.Action == ActionSeek && (req.PositionSeconds == nil || !workerapi.ValidPosition(*req.PositionSeconds)) {
		return fmt.Errorf("%w: seek needs positionSeconds between 0 and %d", ErrBadRequest, workerapi.MaxPositionSeconds)
	}
	sess, err := s.get(id)
	if err != nil {
		return err
	}
	return sess.do(ctx, command{kind: cmdControl, ctrl: req})
}

// Status returns a session's status.
func (s *Server) Status(id string) (SessionStatus, error) {
	sess, err := s.get(id)
	if err != nil {
		return SessionStatus{}, err
	}
	return sess.status(), nil
}

// Delete stops a session, leaving its room.
func (s *Server) Delete(id string) error {
	s.mu.Lock()
	sess, ok := s.sessions[id]
	delete(s.sessions, id)
	s.mu.Unlock()
	if !ok {
		return ErrSessionNotFound
	}
	sess.close()
	s.metrics.sessions.Dec()
	return nil
}

// Close stops every session and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	s.cancel()
	for _, sess := range all {
		<-sess.done
		s.metrics.sessions.Dec()
	}
}

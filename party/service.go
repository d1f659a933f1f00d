package party

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Target is a queue entry resolved to media the ingest can open.
type Target struct {
	// MediaType is what is actually played (a show resolves to an episode).
	MediaType MediaType
	// Title is shown by the ingest and clients.
	Title string
	// Playback is sent to the worker as is, with StartSeconds set.
	Playback Playback
}

// Resolver turns a queue entry into a playable target; the library
// implements it (local files under a library root, or Jellyfin URLs).
type Resolver interface {
	Resolve(ctx context.Context, mediaType MediaType, sourceID string) (Target, error)
}

// Description is what the library knows of an item, copied into a queue
// entry when it is added.
type Description struct {
	MediaType      MediaType
	Title          string
	Year           int
	RuntimeSeconds float64
	Summary        string
	PosterURL      string
	// Artist and Album credit music (tracks and albums); empty otherwise.
	Artist, Album string
}

// Catalog describes library items for new queue entries.
type Catalog interface {
	Describe(ctx context.Context, sourceID string) (Description, error)
}

// Params configures a Service.
type Params struct {
	DB *sql.DB
	// Worker drives the ingest; required.
	Worker Worker
	// CallbackURL is where the worker POSTs events (the API's
	// /internal/worker/events).
	CallbackURL string
	// Rooms is the SFU's RoomService; nil skips room management (rooms are
	// then created when the first participant joins).
	Rooms Rooms
	// LiveKit signs access tokens.
	LiveKit LiveKitConfig
	// Resolver turns entries into media; nil makes play fail with ErrResolve.
	Resolver Resolver
	// Catalog fills queue entries from the library; nil trusts the client.
	Catalog Catalog
	// HeartbeatInterval is the worker's heartbeat period (1 s), asked of
	// each worker session it creates; the worker is lost after LostAfter
	// (2.5 intervals by default) without one. The watchdog looks every
	// quarter interval, so a lost worker is restarted within about
	// 2.75 intervals of its last heartbeat, at a position at most one
	// interval old.
	HeartbeatInterval time.Duration
	LostAfter         time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
	// Registerer receives the package's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
}

// Service is the party domain. It owns one goroutine, the worker watchdog,
// started by Run. Operations on one party are serialised by a per-party lock
// so a worker event and a user's command never interleave.
type Service struct {
	db       *sql.DB
	worker   Worker
	callback string
	rooms    Rooms
	lk       LiveKitConfig
	resolver Resolver
	catalog  Catalog
	interval time.Duration
	lostAft  time.Duration
	now      func() time.Time
	log      *slog.Logger
	metrics  *metrics
	broker   *broker
	started  time.Time

	// drops tracks the goroutines deleting worker sessions; Run waits for them.
	drops sync.WaitGroup

	mu    sync.Mutex
	locks map[int64]*partyLock
	// cmdAt is when each party's last play or seek was accepted by the
	// worker: positions in events stamped earlier are stale.
	cmdAt map[int64]int64
	// retryAt holds back the next recovery attempt of a party whose
	// worker could not be restarted.
	retryAt map[int64]time.Time
}

type partyLock struct {
	mu   sync.Mutex
	refs int
}

// New returns a Service; call Run to start its watchdog.
func New(p Params) (*Service, error) {
	if p.DB == nil || p.Worker == nil {
		return nil, fmt.Errorf("party: %w: DB and Worker are required", ErrInvalid)
	}
	if p.HeartbeatInterval <= 0 {
		p.HeartbeatInterval = time.Second
	}
	if p.LostAfter <= 0 {
		p.LostAfter = p.HeartbeatInterval * 5 / 2
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, err
	}
	return &Service{db: p.DB, worker: p.Worker, callback: p.CallbackURL, rooms: p.Rooms, lk: p.LiveKit,
		resolver: p.Resolver, catalog: p.Catalog, interval: p.HeartbeatInterval, lostAft: p.LostAfter,
		now: p.Now, log: p.Log, metrics: m, broker: newBroker(), started: p.Now(), locks: map[int64]*partyLock{},
		cmdAt: map[int64]int64{}, retryAt: map[int64]time.Time{}}, nil
}

func (s *Service) nowMs() int64 { return s.now().UnixMilli() }

// lock serialises operations on one party; it returns the unlock function.
func (s *Service) lock(id int64) func() {
	s.mu.Lock()
	l := s.locks[id]
	if l == nil {
		l = &partyLock{}
		s.locks[id] = l
	}
	l.refs++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.locks, id)
		}
		s.mu.Unlock()
	}
}

// dropSession deletes a worker session in the background. It never runs
// under the party lock: the worker may flush its last events to our
// callback while it deletes, and those events wait for that lock.
func (s *Service) dropSession(partyID int64, sessionID string) {
	s.drops.Add(1)
	go func() {
		defer s.drops.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := s.worker.DeleteSession(ctx, sessionID); err != nil {
			s.log.Warn("worker delete session", "party", partyID, "workerSession", sessionID, "err", err)
		}
	}()
}

// commanded records that the worker accepted a play or seek just now.
func (s *Service) commanded(partyID int64) {
	s.mu.Lock()
	s.cmdAt[partyID] = s.nowMs()
	s.mu.Unlock()
}

// stale reports whether an event stamped atMs predates the party's last
// play or seek. Worker and API clocks are compared: on one host they are
// the same; across hosts a skew only delays position updates by the skew.
func (s *Service) stale(partyID, atMs int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return atMs > 0 && atMs <= s.cmdAt[partyID]
}

// watchPeriod is how often Run looks for silent workers.
func (s *Service) watchPeriod() time.Duration { return s.interval / 4 }

// Run watches worker heartbeats until ctx ends: a party whose worker has
// been silent for LostAfter is marked lost and recovered on a new worker
// session at its last known position. It closes live subscriptions on exit.
func (s *Service) Run(ctx context.Context) error {
	defer s.broker.closeAll()
	defer s.drops.Wait()
	t := time.NewTicker(s.watchPeriod())
	defer t.Stop()
	s.log.Info("party watchdog started", "heartbeat", s.interval, "lostAfter", s.lostAft)
	for {
		select {
		case <-ctx.Done():
			s.log.Info("party watchdog stopped", "reason", context.Cause(ctx))
			return nil
		case <-t.C:
			s.checkWorkers(ctx)
		}
	}
}

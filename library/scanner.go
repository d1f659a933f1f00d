package library

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"
)

// ScanState is where a library's scan stands.
type ScanState string

// Scan states. Done, Failed and Canceled are final.
const (
	StateIdle     ScanState = "idle"
	StateQueued   ScanState = "queued"
	StateRunning  ScanState = "running"
	StateDone     ScanState = "done"
	StateFailed   ScanState = "failed"
	StateCanceled ScanState = "canceled"
)

// Final reports whether the scan has ended.
func (s ScanState) Final() bool { return s == StateDone || s == StateFailed || s == StateCanceled }

// Scan phases while running.
const (
	PhaseWalking  = "walking"
	PhaseProbing  = "probing"
	PhaseCleaning = "cleaning"
)

// Progress is a snapshot of one library's scan, shaped for JSON (the API
// streams it as server-sent events; the CLI draws it as a bar).
type Progress struct {
	LibraryID int64     `json:"libraryId"`
	State     ScanState `json:"state"`
	Phase     string    `json:"phase,omitempty"`
	// Percent is FilesDone/FilesTotal in [0, 100]; 100 once done.
	Percent     float64 `json:"percent"`
	FilesTotal  int     `json:"filesTotal"`
	FilesDone   int     `json:"filesDone"`
	CurrentFile string  `json:"currentFile,omitempty"`
	Added       int     `json:"added"`
	Updated     int     `json:"updated"`
	Unchanged   int     `json:"unchanged"`
	Removed     int     `json:"removed"`
	ProbeErrors int     `json:"probeErrors"`
	// Errors lists problems ("path: message"), at most 50.
	Errors     []string  `json:"errors,omitempty"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

func (p *Progress) addError(msg string) {
	if len(p.Errors) < maxReportedErrors {
		p.Errors = append(p.Errors, msg)
	}
}

func (p Progress) snapshot() Progress {
	p.Errors = append([]string(nil), p.Errors...)
	switch {
	case p.State == StateDone:
		p.Percent = 100
	case p.FilesTotal > 0:
		p.Percent = float64(p.FilesDone) * 100 / float64(p.FilesTotal)
	}
	return p
}

// ScannerParams configures a Scanner.
type ScannerParams struct {
	Service *Service
	// Workers probe files in parallel; default runtime.NumCPU().
	Workers int
	Logger  *slog.Logger
}

// Scanner runs library scans one at a time in its own goroutine and keeps
// the latest progress of each library. Close cancels a running scan.
type Scanner struct {
	svc     *Service
	workers int
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}
	wake    chan struct{}

	mu         sync.Mutex
	closed     bool
	pending    []scanRequest
	progress   map[int64]*Progress
	running    int64
	cancelScan context.CancelFunc
	subs       map[*subscription]struct{}
}

type scanRequest struct {
	libraryID int64
	full      bool
}

type subscription struct {
	libraryID int64
	ch        chan Progress
}

// NewScanner starts a scanner; call Close to stop it.
func NewScanner(p ScannerParams) *Scanner {
	if p.Workers <= 0 {
		p.Workers = runtime.NumCPU()
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scanner{
		svc: p.Service, workers: p.Workers, log: p.Logger.With("component", "library.scanner"),
		cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1),
		progress: map[int64]*Progress{}, subs: map[*subscription]struct{}{},
	}
	go s.run(ctx)
	return s
}

// Scan queues an incremental scan of a library. It returns ErrScanRunning
// if one is already queued or running, ErrNotFound for an unknown library
// and ErrClosed after Close.
func (s *Scanner) Scan(ctx context.Context, libraryID int64) error {
	return s.queue(ctx, scanRequest{libraryID: libraryID})
}

// ScanFull queues a scan that re-reads every file, changed or not: it
// refreshes metadata after a provider was added or was unreachable.
// Manual edits are kept. Errors are those of Scan.
func (s *Scanner) ScanFull(ctx context.Context, libraryID int64) error {
	return s.queue(ctx, scanRequest{libraryID: libraryID, full: true})
}

func (s *Scanner) queue(ctx context.Context, req scanRequest) error {
	libraryID := req.libraryID
	lib, err := s.svc.Library(ctx, libraryID)
	if err != nil {
		return err
	}
	if lib.Source != SourceLocal {
		return fmt.Errorf("%w: library %d is a %s library", ErrInvalid, libraryID, lib.Source)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if p := s.progress[libraryID]; p != nil && (p.State == StateQueued || p.State == StateRunning) {
		return fmt.Errorf("%w: library %d", ErrScanRunning, libraryID)
	}
	s.pending = append(s.pending, req)
	s.progress[libraryID] = &Progress{LibraryID: libraryID, State: StateQueued}
	s.notifyLocked(libraryID)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Cancel stops the queued or running scan of a library; it reports whether
// there was one.
func (s *Scanner) Cancel(libraryID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == libraryID && s.cancelScan != nil {
		s.cancelScan()
		return true
	}
	for i, req := range s.pending {
		if req.libraryID == libraryID {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			p := s.progress[libraryID]
			p.State, p.FinishedAt = StateCanceled, s.svc.now()
			s.notifyLocked(libraryID)
			return true
		}
	}
	return false
}

// Progress returns the latest progress of a library's scan (StateIdle if
// none ran since start).
func (s *Scanner) Progress(libraryID int64) Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.progress[libraryID]; p != nil {
		return p.snapshot()
	}
	return Progress{LibraryID: libraryID, State: StateIdle}
}

// Subscribe streams progress of one library (or of all with libraryID 0).
// The channel holds only the latest snapshot, so a slow reader skips
// intermediate states but always sees the last one. Call the returned
// function to unsubscribe; the channel is then no longer written.
func (s *Scanner) Subscribe(libraryID int64) (<-chan Progress, func()) {
	sub := &subscription{libraryID: libraryID, ch: make(chan Progress, 1)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	if p := s.progress[libraryID]; p != nil {
		sub.ch <- p.snapshot()
	}
	s.mu.Unlock()
	return sub.ch, func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}
}

// Wait blocks until the library's current scan ends and returns its final
// progress.
func (s *Scanner) Wait(ctx context.Context, libraryID int64) (Progress, error) {
	ch, stop := s.Subscribe(libraryID)
	defer stop()
	if p := s.Progress(libraryID); p.State.Final() || p.State == StateIdle {
		return p, nil
	}
	for {
		select {
		case p := <-ch:
			if p.State.Final() {
				return p, nil
			}
		case <-ctx.Done():
			return s.Progress(libraryID), ctx.Err()
		case <-s.done:
			return s.Progress(libraryID), ErrClosed
		}
	}
}

// Close cancels any running scan and waits for the scanner to stop.
func (s *Scanner) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	<-s.done
	return nil
}

func (s *Scanner) run(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case <-ctx.Done():
			s.log.Debug("scanner stopped", "reason", ctx.Err())
			return
		case <-s.wake:
		}
		for {
			req, ok := s.next()
			if !ok {
				break
			}
			s.runOne(ctx, req)
			if ctx.Err() != nil {
				break
			}
		}
	}
}

func (s *Scanner) next() (scanRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return scanRequest{}, false
	}
	req := s.pending[0]
	s.pending = s.pending[1:]
	return req, true
}

func (s *Scanner) runOne(ctx context.Context, req scanRequest) {
	id := req.libraryID
	scanCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := s.svc.now()
	s.mu.Lock()
	s.running, s.cancelScan = id, cancel
	s.progress[id] = &Progress{LibraryID: id, State: StateRunning, StartedAt: start}
	s.notifyLocked(id)
	s.mu.Unlock()

	var err error
	lib, err := s.svc.Library(scanCtx, id)
	if err == nil {
		err = s.svc.scan(scanCtx, lib, s.workers, req.full, func(f func(*Progress)) { s.update(id, f) })
	}
	state := StateDone
	switch {
	case err != nil && errCanceled(err):
		state = StateCanceled
	case err != nil:
		state = StateFailed
	}
	s.svc.metrics.scans.WithLabelValues(string(state)).Inc()
	s.svc.metrics.scanSeconds.Observe(s.svc.now().Sub(start).Seconds())
	s.mu.Lock()
	s.running, s.cancelScan = 0, nil
	s.mu.Unlock()
	s.update(id, func(p *Progress) {
		p.State, p.FinishedAt, p.CurrentFile, p.Phase = state, s.svc.now(), "", ""
		if err != nil {
			p.Error = err.Error()
		}
	})
	p := s.Progress(id)
	s.log.Info("scan finished", "library", id, "state", state, "files", p.FilesTotal, "added", p.Added,
		"updated", p.Updated, "removed", p.Removed, "probeErrors", p.ProbeErrors,
		"duration", s.svc.now().Sub(start).Round(time.Millisecond), "err", err)
}

func (s *Scanner) update(id int64, f func(*Progress)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.progress[id]
	if p == nil {
		p = &Progress{LibraryID: id}
		s.progress[id] = p
	}
	f(p)
	s.notifyLocked(id)
}

// notifyLocked hands the latest snapshot to subscribers, replacing any
// unread one. Called with s.mu held, so sends never race each other.
func (s *Scanner) notifyLocked(id int64) {
	if len(s.subs) == 0 {
		return
	}
	snap := s.progress[id].snapshot()
	for sub := range s.subs {
		if sub.libraryID != 0 && sub.libraryID != id {
			continue
		}
		select {
		case <-sub.ch:
		default:
		}
		select {
		case sub.ch <- snap:
		default:
		}
	}
}

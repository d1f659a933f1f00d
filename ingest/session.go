package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/marquee-party/marquee/internal/roomconv"
	"github.com/marquee-party/marquee/media"
)

// session is one party's ingest. run owns its state; HTTP handlers reach it
// through cmds and read it through snapshot.
type session struct {
	id, roomName string
	cfg          Config
	conn         Connector
	log          *slog.Logger
	metrics      *Metrics
	notifier     *notifier
	timeline     media.Timeline

	cmds     chan command
	statusCh chan itemStatus
	lost     chan int // generation of a room whose connection dropped
	cancel   context.CancelFunc
	done     chan struct{}

	// Owned by run.
	room    Room
	roomGen int              // incremented on every join
	rejoin  <-chan time.Time // pending rejoin attempt after a drop
	cur     *item
	// attr is the report last mirrored into the participant's attributes.
	attr *PlaybackMessage
	// sentUntil is when the last frame of the previous item ends, so the
	// next item's RTP time starts after it.
	sentUntil time.Time

	mu   sync.Mutex
	snap SessionStatus
	play *media.Player // current player, for live positions
}

type commandKind int

const (
	cmdPlay commandKind = iota
	cmdControl
)

type command struct {
	kind  commandKind
	play  PlayRequest
	ctrl  ControlRequest
	reply chan error
}

// itemStatus is a player's status change, tagged with its item so stale
// reports from a replaced item are ignored.
type itemStatus struct {
	it *item
	st media.Status
}

func newSession(id, room string, cfg Config, conn Connector, n *notifier, log *slog.Logger, m *Metrics) *session {
	return &session{
		id: id, roomName: room, cfg: cfg, conn: conn, notifier: n, metrics: m,
		log:      log.With("session", id, "room", room),
		timeline: media.NewTimeline(time.Now()),
		cmds:     make(chan command, 16),
		statusCh: make(chan itemStatus, 64),
		lost:     make(chan int, 4),
		done:     make(chan struct{}),
		snap:     SessionStatus{SessionID: id, WorkerStatus: WorkerStarting, PlaybackState: string(media.StateStopped)},
	}
}

// start runs the session until ctx ends or close is called.
func (s *session) start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	go s.run(ctx)
}

// close stops the session and waits for it.
func (s *session) close() {
	s.cancel()
	<-s.done
}

// do hands a command to run and waits for its verdict.
func (s *session) do(ctx context.Context, c command) error {
	c.reply = make(chan error, 1)
	select {
	case s.cmds <- c:
	case <-s.done:
		return ErrSessionClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-s.done:
		return ErrSessionClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// status returns the session's status with the live position.
func (s *session) status() SessionStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.snap
	if s.play != nil {
		ps := s.play.Status()
		st.PositionSeconds = ps.Position.Seconds()
		if ps.Duration > 0 {
			st.DurationSeconds = ps.Duration.Seconds()
		}
	}
	return st
}

func (s *session) update(f func(*SessionStatus)) {
	s.mu.Lock()
	f(&s.snap)
	s.mu.Unlock()
}

func (s *session) run(ctx context.Context) {
	defer close(s.done)
	defer s.cleanup()
	defer func() {
		// A bug in one session must not take the worker down.
		if r := recover(); r != nil {
			s.log.Error("session panicked", "panic", r)
			s.metrics.panics.Inc()
			s.update(func(st *SessionStatus) {
				st.WorkerStatus, st.LastError = WorkerFailed, fmt.Sprintf("internal error: %v", r)
			})
			s.emit(EventFailed, fmt.Sprintf("internal error: %v", r))
		}
	}()
	s.notifier.start(ctx)
	_ = s.ensureRoom(ctx)
	heartbeat := time.NewTicker(s.cfg.HeartbeatInterval)
	defer heartbeat.Stop()
	playback := time.NewTicker(s.cfg.PlaybackInterval)
	defer playback.Stop()
	for {
		var result <-chan error
		if s.cur != nil && !s.cur.pending {
			result = s.cur.result
		}
		select {
		case <-ctx.Done():
			s.log.Info("session closed", "reason", context.Cause(ctx))
			return
		case c := <-s.cmds:
			c.reply <- s.handle(ctx, c)
		case st := <-s.statusCh:
			s.onStatus(st)
		case err := <-result:
			s.onItemDone(ctx, err)
		case gen := <-s.lost:
			if gen == s.roomGen && s.room != nil {
				s.reconnect(ctx)
			}
		case <-s.rejoin:
			s.reconnect(ctx)
		case <-heartbeat.C:
			s.emit(EventHeartbeat, "")
		case <-playback.C:
			s.sendPlayback(false)
		}
	}
}

// ensureRoom joins the room if not yet in it.
func (s *session) ensureRoom(ctx context.Context) error {
	if s.room != nil {
		return nil
	}
	jctx, cancel := context.WithTimeout(ctx, s.cfg.JoinTimeout)
	defer cancel()
	gen := s.roomGen + 1
	room, err := s.conn.Join(jctx, JoinParams{
		Room: s.roomName, Identity: roomconv.IngestIdentity(s.id),
		OnKeyframe: s.requestKeyframe,
		OnDisconnected: func() {
			select {
			case s.lost <- gen:
			default:
			}
		},
	})
	if err != nil {
		err = fmt.Errorf("%w: joining %q: %w", ErrRoom, s.roomName, err)
		s.log.Warn("join failed", "err", err)
		s.update(func(st *SessionStatus) { st.WorkerStatus, st.LastError = WorkerFailed, err.Error() })
		return err
	}
	s.room, s.roomGen = room, gen
	status := WorkerReady
	if s.cur != nil {
		status = WorkerPlaying // rejoined with an item to resume
	}
	s.update(func(st *SessionStatus) { st.WorkerStatus = status })
	s.log.Info("joined room")
	return nil
}

// requestKeyframe forwards a PLI to the current player; called from the
// SDK's RTCP goroutines.
func (s *session) requestKeyframe(layer int) {
	s.mu.Lock()
	p := s.play
	s.mu.Unlock()
	if p != nil {
		s.metrics.keyframeRequests.Inc()
		go p.RequestKeyframe(layer) // never block an RTCP reader
	}
}

func (s *session) handle(ctx context.Context, c command) error {
	switch c.kind {
	case cmdPlay:
		if err := s.ensureRoom(ctx); err != nil {
			// The control plane advances its queue on "failed".
			s.update(func(st *SessionStatus) { st.LastError = err.Error() })
			s.emitFor(&item{req: c.play}, EventFailed, 0, string(media.StateStopped), err.Error())
			return err
		}
		s.startItem(ctx, c.play)
		return nil
	case cmdControl:
		return s.control(ctx, c.ctrl)
	}
	return fmt.Errorf("%w: unknown command", ErrBadRequest)
}

func (s *session) control(ctx context.Context, c ControlRequest) error {
	if c.Action == ActionStop {
		s.stopItem()
		if s.room != nil {
			if err := s.room.Configure(media.Info{}); err != nil {
				s.log.Warn("unpublish failed", "err", err)
			}
		}
		s.update(func(st *SessionStatus) { st.PlaybackState = string(media.StateStopped) })
		s.sendPlayback(true)
		return nil
	}
	if s.cur == nil {
		return ErrNothingPlaying
	}
	switch c.Action {
	case ActionPause:
		s.cur.player.Pause()
	case ActionResume:
		s.cur.player.Resume()
	case ActionSeek:
		if c.PositionSeconds == nil || *c.PositionSeconds < 0 {
			return fmt.Errorf("%w: seek needs positionSeconds >= 0", ErrBadRequest)
		}
		s.cur.player.Seek(time.Duration(*c.PositionSeconds * float64(time.Second)))
	case ActionSkip:
		it := s.cur
		pos := s.cur.player.Status().Position
		s.stopItem()
		s.emitFor(it, EventEnded, pos, string(media.StateStopped), "")
	default:
		return fmt.Errorf("%w: unknown action %q", ErrBadRequest, c.Action)
	}
	return nil
}

func (s *session) cleanup() {
	s.cancel() // also after a panic: ends the notifier once it has drained
	s.stopItem()
	if s.room != nil {
		s.room.Close()
		s.room = nil
	}
	s.update(func(st *SessionStatus) { st.WorkerStatus, st.PlaybackState = WorkerClosed, string(media.StateStopped) })
	s.notifier.wait()
}

// emit queues an event about the current item.
func (s *session) emit(typ, errMsg string) {
	st := s.status()
	s.notifier.send(Event{
		SessionID: s.id, Type: typ, QueueEntryID: st.QueueEntryID,
		PositionSeconds: st.PositionSeconds, PlaybackState: st.PlaybackState,
		Error: errMsg, AtMs: time.Now().UnixMilli(),
	})
	s.metrics.events.WithLabelValues(typ).Inc()
}

// emitFor queues an event about item it, which may no longer be current.
func (s *session) emitFor(it *item, typ string, pos time.Duration, state, errMsg string) {
	s.notifier.send(Event{
		SessionID: s.id, Type: typ, QueueEntryID: it.req.QueueEntryID,
		PositionSeconds: pos.Seconds(), PlaybackState: state,
		Error: errMsg, AtMs: time.Now().UnixMilli(),
	})
	s.metrics.events.WithLabelValues(typ).Inc()
}

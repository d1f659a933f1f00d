package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marquee-party/marquee/media"
)

// item is the queue entry being played.
type item struct {
	req     PlayRequest
	sources []string // resolved, tried in order
	errs    []string // why earlier sources failed
	next    int      // index of the next source to try
	player  *media.Player
	cancel  context.CancelFunc
	result  chan error
	started bool // "started" was emitted
	paused  bool // "paused" was emitted, "resumed" not yet
	// pending: the room dropped and the item waits, stopped, for a rejoin.
	pending      bool
	pendingPos   time.Duration
	pendingPause bool
}

// startItem replaces the current item with req and starts its first source.
func (s *session) startItem(ctx context.Context, req PlayRequest) {
	s.stopItem()
	it := &item{req: req}
	for _, u := range []string{req.Playback.StreamURL, req.Playback.DownloadURL} {
		if u == "" {
			continue
		}
		r, err := resolveSource(s.cfg.MediaRoots, u)
		if err != nil {
			it.errs = append(it.errs, err.Error())
			continue
		}
		it.sources = append(it.sources, r)
	}
	s.cur = it
	s.update(func(st *SessionStatus) {
		st.WorkerStatus, st.PlaybackState = WorkerPlaying, string(media.StateLoading)
		st.CurrentTitle, st.QueueEntryID, st.LastError = req.Title, req.QueueEntryID, ""
		st.PositionSeconds, st.DurationSeconds = req.Playback.StartSeconds, req.Playback.DurationSeconds
	})
	s.log.Info("play", "queueEntry", req.QueueEntryID, "title", req.Title, "sources", len(it.sources))
	start := time.Duration(req.Playback.StartSeconds * float64(time.Second))
	if !s.startSource(ctx, it, start) {
		s.failItem(it)
	}
}

// startSource starts the item's next source at pos; false when none is left.
func (s *session) startSource(ctx context.Context, it *item, pos time.Duration) bool {
	if it.next >= len(it.sources) {
		return false
	}
	src := it.sources[it.next]
	it.next++
	if it.cancel != nil {
		it.cancel() // the previous source's context
	}
	notBefore := s.sentUntil
	if it.player != nil {
		notBefore = it.player.Status().SentUntil
	}
	pctx, cancel := context.WithCancel(ctx)
	it.cancel = cancel
	it.result = make(chan error, 1)
	it.player = media.NewPlayer(media.PlayerParams{
		URL: src, Config: s.cfg.Media, Sink: roomSink{s.room, s.metrics}, Timeline: s.timeline,
		Start: pos, Logger: s.log, NotBefore: notBefore,
		OnVideoEncoded: func(d time.Duration) { s.metrics.encodeSeconds.Observe(d.Seconds()) },
		OnStatus: func(st media.Status) {
			select {
			case s.statusCh <- itemStatus{it, st}:
			default: // the 1 s playback tick resynchronises
			}
		},
	})
	s.mu.Lock()
	s.play = it.player
	s.mu.Unlock()
	pl, result := it.player, it.result // it is rewritten on a restart
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.metrics.panics.Inc()
				result <- fmt.Errorf("internal error in the pipeline: %v", r)
			}
		}()
		result <- pl.Run(pctx)
	}()
	return true
}

// stopItem cancels the current item and waits for its pipeline to stop.
func (s *session) stopItem() {
	it := s.cur
	if it == nil {
		return
	}
	s.cur = nil
	if it.cancel != nil {
		it.cancel()
		<-it.player.Done()
		s.sentUntil = it.player.Status().SentUntil
	}
	s.mu.Lock()
	s.play = nil
	s.mu.Unlock()
}

// onItemDone handles the end of the current item's player.
func (s *session) onItemDone(ctx context.Context, err error) {
	it := s.cur
	pos := it.player.Status().Position
	if err == nil {
		s.log.Info("item ended", "queueEntry", it.req.QueueEntryID)
		s.clearItem(string(media.StateStopped))
		s.emitFor(it, EventEnded, pos, string(media.StateStopped), "")
		s.sendPlayback(true)
		return
	}
	it.errs = append(it.errs, describe(err))
	s.log.Warn("source failed", "queueEntry", it.req.QueueEntryID, "source", it.next, "err", err)
	if ctx.Err() == nil && s.startSource(ctx, it, pos) {
		s.log.Info("trying fallback source", "position", pos)
		return
	}
	s.failItem(it)
}

// failItem reports that no source of it could be played.
func (s *session) failItem(it *item) {
	msg := "no playable source"
	if len(it.errs) > 0 {
		msg = strings.Join(it.errs, "; then ")
	} else if len(it.sources) == 0 {
		msg = ErrNoSource.Error()
	}
	pos := time.Duration(0)
	if it.player != nil {
		pos = it.player.Status().Position
	}
	s.clearItem(string(media.StateStopped))
	s.update(func(st *SessionStatus) { st.LastError = msg })
	s.metrics.failures.Inc()
	s.emitFor(it, EventFailed, pos, string(media.StateStopped), msg)
	s.sendPlayback(true)
}

func (s *session) clearItem(state string) {
	pos := -1.0
	if s.cur != nil && s.cur.player != nil {
		ps := s.cur.player.Status()
		s.sentUntil, pos = ps.SentUntil, ps.Position.Seconds()
	}
	s.cur = nil
	s.mu.Lock()
	s.play = nil
	s.mu.Unlock()
	s.update(func(st *SessionStatus) {
		st.WorkerStatus, st.PlaybackState = WorkerReady, state
		if pos >= 0 {
			st.PositionSeconds = pos // where it ended or failed
		}
	})
}

// describe turns a pipeline error into a sentence for lastError.
func describe(err error) string {
	switch {
	case errors.Is(err, media.ErrOpen):
		return "cannot open media: " + err.Error()
	case errors.Is(err, media.ErrUnsupportedCodec), errors.Is(err, media.ErrNoStreams):
		return "unsupported media: " + err.Error()
	case errors.Is(err, media.ErrRead):
		return "media stopped while playing: " + err.Error()
	}
	return err.Error()
}

// onStatus turns player state changes into events and playback messages.
func (s *session) onStatus(is itemStatus) {
	it := is.it
	if it != s.cur {
		return
	}
	st := is.st
	s.update(func(ss *SessionStatus) {
		ss.PlaybackState = string(st.State)
		if st.Duration > 0 {
			ss.DurationSeconds = st.Duration.Seconds()
		}
	})
	switch {
	case st.State == media.StatePlaying && !it.started:
		it.started = true
		s.emit(EventStarted, "")
	case st.State == media.StatePlaying && it.paused:
		it.paused = false
		s.emit(EventResumed, "")
	case st.State == media.StatePaused && !it.paused:
		it.paused = true
		s.emit(EventPaused, "")
	}
	s.sendPlayback(true)
}

// sendPlayback publishes the marquee.playback message.
func (s *session) sendPlayback(changed bool) {
	if s.room == nil {
		return
	}
	msg := PlaybackMessage{Type: playbackMsgType, State: string(media.StateStopped), SentAtMs: time.Now().UnixMilli()}
	if it := s.cur; it != nil {
		st := it.player.Status()
		msg.ItemID, msg.Title = it.req.Playback.ItemID, it.req.Title
		msg.State = string(st.State)
		msg.PositionMs = st.Position.Milliseconds()
		msg.DurationMs = st.Duration.Milliseconds()
		if msg.DurationMs == 0 {
			msg.DurationMs = int64(it.req.Playback.DurationSeconds * 1000)
		}
		if st.Video.Timestamp != 0 || st.Audio.Timestamp != 0 {
			if st.Info.HasVideo() {
				msg.VideoRTP = &RTPAnchor{TS: st.Video.Timestamp, PositionMs: st.Video.Position.Milliseconds()}
			}
			if st.Info.HasAudio {
				msg.AudioRTP = &RTPAnchor{TS: st.Audio.Timestamp, PositionMs: st.Audio.Position.Milliseconds()}
			}
		}
	}
	if changed || attrDrifted(s.attr, &msg) {
		changed = true
		s.attr = &msg
	}
	b, _ := json.Marshal(msg)
	if err := s.room.SendPlayback(b, changed); err != nil {
		s.log.Debug("playback message not sent", "err", err)
	}
}

// AttrDriftMs is how far the position extrapolated from the attribute copy
// of the playback report (its position plus the time since it was sent)
// may drift from the real one before the copy is renewed. Viewers without
// the data channel (the HLS fallback, whose UDP is blocked) follow the
// party from that copy alone; a slowed ingest (a loaded machine) would
// otherwise leave them seconds ahead.
const AttrDriftMs = 100

// attrDrifted reports whether the attribute copy last, extrapolated to
// now's send time, is more than AttrDriftMs off now while both play.
func attrDrifted(last, now *PlaybackMessage) bool {
	if last == nil || now.State != "playing" || last.State != "playing" || last.ItemID != now.ItemID {
		return false
	}
	want := last.PositionMs + (now.SentAtMs - last.SentAtMs)
	d := now.PositionMs - want
	return d > AttrDriftMs || d < -AttrDriftMs
}

// roomSink adapts a Room to media.Sink.
type roomSink struct {
	room    Room
	metrics *Metrics
}

func (r roomSink) Configure(i media.Info) error { return r.room.Configure(i) }

func (r roomSink) WriteVideo(f media.Frame) error {
	r.metrics.videoFrames.Inc()
	return r.room.WriteVideo(f)
}

func (r roomSink) WriteAudio(f media.Frame) error {
	r.metrics.audioFrames.Inc()
	return r.room.WriteAudio(f)
}

// rejoinDelay spaces attempts to rejoin a room after the SFU went away.
const rejoinDelay = 2 * time.Second

// reconnect replaces a dropped room connection and resumes the current
// item, from where it was, into the new one.
func (s *session) reconnect(ctx context.Context) {
	s.rejoin = nil
	s.log.Warn("room connection lost, rejoining")
	var pos time.Duration
	var paused bool
	resume := s.cur
	switch {
	case resume != nil && resume.pending: // still waiting from an earlier drop
		pos, paused = resume.pendingPos, resume.pendingPause
		s.cur = nil
	case resume != nil:
		st := resume.player.Status()
		pos, paused = st.Position, st.State == media.StatePaused
		s.stopItem()
	}
	if s.room != nil {
		s.room.Close()
		s.room = nil
	}
	if err := s.ensureRoom(ctx); err != nil {
		s.rejoin = time.After(rejoinDelay)
		if resume != nil {
			// Keep the item; it restarts when the room is back.
			s.cur = resume
			resume.pendingPos, resume.pendingPause, resume.pending = pos, paused, true
		}
		return
	}
	if resume != nil {
		s.restartItem(ctx, resume, pos, paused)
	}
}

// restartItem plays it again from pos on the source that was playing.
func (s *session) restartItem(ctx context.Context, it *item, pos time.Duration, paused bool) {
	it.pending = false
	it.next = max(it.next-1, 0)
	s.cur = it
	if !s.startSource(ctx, it, pos) {
		s.failItem(it)
		return
	}
	if paused {
		it.player.Pause()
	}
}

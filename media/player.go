package media

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asticode/go-astiav"
)

// PlayerParams configures a Player.
type PlayerParams struct {
	// URL is a local path or an http(s) URL; the caller checks it is allowed.
	URL string
	// Config tunes the pipeline.
	Config Config
	// Sink receives the frames.
	Sink Sink
	// Timeline maps wall-clock time to RTP timestamps; share it across the
	// items of one session.
	Timeline Timeline
	// Start is the position to start from.
	Start time.Duration
	// Logger receives the player's logs; slog.Default when nil.
	Logger *slog.Logger
	// Clock paces the output; SystemClock when nil.
	Clock Clock
	// NotBefore: no frame is sent for an earlier instant. Pass the previous
	// item's Status().SentUntil so RTP time never overlaps across items.
	NotBefore time.Time
	// OnStatus, when set, is called from the player's goroutine on every
	// state change: loading, first frame of a segment (playing), paused.
	// It must not block.
	OnStatus func(Status)
	// OnVideoEncoded, when set, is called from the player's goroutine with
	// the wall time spent scaling and encoding one source frame into all
	// layers (for metrics and benchmarks).
	OnVideoEncoded func(took time.Duration)
}

// Player plays one media item into a Sink, paced in real time. Run owns
// all of its libav state; the control methods talk to Run over a channel.
type Player struct {
	p    PlayerParams
	log  *slog.Logger
	ctrl chan control
	done chan struct{}

	mu     sync.Mutex
	status Status
}

type controlKind int

const (
	ctrlPause controlKind = iota
	ctrlResume
	ctrlSeek
	ctrlKeyframe
)

type control struct {
	kind  controlKind
	pos   time.Duration
	layer int
}

// NewPlayer returns a player; nothing is opened until Run.
func NewPlayer(p PlayerParams) *Player {
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	if p.Clock == nil {
		p.Clock = SystemClock{}
	}
	return &Player{
		p: p, log: log,
		ctrl:   make(chan control, 16),
		done:   make(chan struct{}),
		status: Status{State: StateLoading, Position: p.Start},
	}
}

// Pause stops sending frames; the tracks stay published.
func (pl *Player) Pause() { pl.send(control{kind: ctrlPause}) }

// Resume continues from the paused frame, starting with a keyframe.
func (pl *Player) Resume() { pl.send(control{kind: ctrlResume}) }

// Seek moves to pos exactly; the state (playing or paused) is kept. The
// status shows the target at once.
func (pl *Player) Seek(pos time.Duration) {
	pos = max(pos, 0)
	pl.setStatus(func(s *Status) {
		s.Position = pos
		if s.State == StatePlaying {
			s.State = StateLoading
		}
	})
	pl.send(control{kind: ctrlSeek, pos: pos})
}

// RequestKeyframe makes the next frame of video layer i a keyframe (i < 0:
// all layers); wire it to PLI and FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1).
func (pl *Player) RequestKeyframe(layer int) { pl.send(control{kind: ctrlKeyframe, layer: layer}) }

func (pl *Player) send(c control) {
	select {
	case pl.ctrl <- c:
	case <-pl.done:
	}
}

// Status returns the current state, position and RTP anchors.
func (pl *Player) Status() Status {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.status
}

// Done is closed when Run has returned.
func (pl *Player) Done() <-chan struct{} { return pl.done }

// Run opens the source and plays it to the end (nil), until ctx ends
// (ctx.Err()) or a failure (an error wrapping one of this package's
// errors). It releases every libav resource before returning.
func (pl *Player) Run(ctx context.Context) (err error) {
	defer close(pl.done)
	defer func() {
		pl.setStatus(func(s *Status) { s.State = StateStopped })
	}()
	if err := pl.p.Config.Validate(); err != nil {
		return err
	}
	r, err := pl.open(ctx)
	if err != nil {
		return err
	}
	defer r.close()
	return r.loop(ctx)
}

func (pl *Player) setStatus(f func(*Status)) Status {
	pl.mu.Lock()
	f(&pl.status)
	s := pl.status
	pl.mu.Unlock()
	return s
}

func (pl *Player) notify(f func(*Status)) {
	s := pl.setStatus(f)
	if pl.p.OnStatus != nil {
		pl.p.OnStatus(s)
	}
}

// run is the state of one Run call, owned by its goroutine.
type run struct {
	pl   *Player
	cfg  Config
	src  *source
	venc *videoEncoder
	aenc *audioEncoder
	info Info

	queue   []encoded // by position
	eof     bool
	playing bool

	// Segment: frames play from segPos at wall time segWall.
	segPos     time.Duration
	segWall    time.Time
	segStarted bool
	// RTP timestamps of the segment start.
	videoAnchor, audioAnchor Anchor
	dropBefore               time.Duration // decoded frames before this are dropped (seek)

	// Encoder timestamps (90 kHz) only grow, across seeks.
	encBase, encSegPosTS, lastEncPts int64

	lastVideo, lastAudio     time.Duration // last emitted positions
	lastDueEnd               time.Time     // when the last emitted frame ends
	queuedVideo, queuedAudio time.Duration // last queued positions
	emitted                  bool
}

func (pl *Player) open(ctx context.Context) (*run, error) {
	r := &run{pl: pl, cfg: pl.p.Config, playing: true, lastDueEnd: pl.p.NotBefore}
	src, err := openSource(ctx, pl.p.URL, r.cfg)
	if err != nil {
		return nil, err
	}
	r.src = src
	r.info = Info{Duration: src.duration, HasAudio: src.audio != nil, VideoCodec: r.cfg.VideoCodec}
	if src.audio != nil {
		r.info.AudioLanguage = language(src.audio.stream)
	}
	if src.video != nil {
		cc := src.video.cc
		w, h, sar := cc.Width(), cc.Height(), cc.SampleAspectRatio().Float64()
		if src.rotation == 90 || src.rotation == 270 {
			w, h = h, w
			if sar > 0 {
				sar = 1 / sar
			}
		}
		r.info.Layers = planLayers(r.cfg.Layers, w, h, sar)
		if len(r.info.Layers) == 0 {
			r.close()
			return nil, fmt.Errorf("%w: video size %dx%d", ErrUnsupportedCodec, cc.Width(), cc.Height())
		}
		fps := src.video.stream.AvgFrameRate()
		if r.venc, err = newVideoEncoder(r.info.Layers, src.rotation, r.cfg, fps); err != nil {
			r.close()
			return nil, err
		}
	}
	if src.audio != nil {
		if r.aenc, err = newAudioEncoder(r.cfg.AudioBitrate); err != nil {
			r.close()
			return nil, err
		}
	}
	if err := pl.p.Sink.Configure(r.info); err != nil {
		r.close()
		return nil, fmt.Errorf("%w: configure: %w", ErrSink, err)
	}
	pl.notify(func(s *Status) { s.Info, s.Duration = r.info, r.info.Duration })
	if pl.p.Start > 0 {
		if err := r.seek(pl.p.Start); err != nil {
			r.close()
			return nil, err
		}
	}
	return r, nil
}

func (r *run) close() {
	if r.venc != nil {
		r.venc.free()
	}
	if r.aenc != nil {
		r.aenc.free()
	}
	if r.src != nil {
		r.src.close()
	}
}

// loop interleaves control, emission of due frames and decoding ahead.
func (r *run) loop(ctx context.Context) error {
	clock := r.pl.p.Clock
	for {
		select {
		case c := <-r.pl.ctrl:
			if err := r.handle(c); err != nil {
				return err
			}
			continue
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		now := clock.Now()
		r.maybeStartSegment(now)
		if err := r.emitDue(now); err != nil {
			return err
		}
		if r.needMore(now) {
			if err := r.step(); err != nil {
				return err
			}
			continue
		}
		if r.eof && len(r.queue) == 0 && r.playing {
			return nil
		}
		wait := time.Hour
		if r.playing && r.segStarted && len(r.queue) > 0 {
			wait = r.due(r.queue[0].pos).Sub(now)
		}
		fire := clock.After(max(wait, 0))
		select {
		case c := <-r.pl.ctrl:
			if err := r.handle(c); err != nil {
				return err
			}
		case <-fire:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *run) handle(c control) error {
	switch c.kind {
	case ctrlPause:
		if !r.playing {
			return nil
		}
		pos := r.segPos
		if r.emitted {
			pos = r.lastVideo
			if !r.info.HasVideo() {
				pos = r.lastAudio + opusFrame
			}
		}
		r.playing = false
		// Prepare the paused frame now, as a keyframe, so Resume is instant.
		if err := r.seek(pos); err != nil {
			return err
		}
		r.pl.notify(func(s *Status) { s.State, s.Position = StatePaused, pos })
	case ctrlResume:
		if r.playing {
			return nil
		}
		r.playing = true
		r.segStarted = false
		r.pl.notify(func(s *Status) { s.State = StateLoading })
	case ctrlSeek:
		if r.info.Duration > 0 && c.pos >= r.info.Duration {
			c.pos = max(r.info.Duration-time.Millisecond, 0)
		}
		if err := r.seek(c.pos); err != nil {
			return err
		}
		state := StatePaused
		if r.playing {
			state = StateLoading
		}
		r.pl.notify(func(s *Status) { s.State, s.Position = state, c.pos })
	case ctrlKeyframe:
		if r.venc != nil {
			r.venc.forceKeyframe(c.layer)
		}
		if !r.playing {
			return r.sendStill(c.layer)
		}
	}
	return nil
}

// sendStill answers a keyframe request while paused (a viewer joining a
// paused party) with the paused frame, prepared as a keyframe, stamped
// now: RTP time keeps moving forward and resume stamps it later again.
func (r *run) sendStill(layer int) error {
	ts := r.pl.p.Timeline.VideoTS(r.pl.p.Clock.Now())
	for _, e := range r.queue {
		if e.layer < 0 || !e.key || e.pos != r.segPos || layer >= 0 && e.layer != layer {
			continue
		}
		f := Frame{Layer: e.layer, Data: e.data, Keyframe: true, Position: e.pos, Timestamp: ts}
		if err := r.pl.p.Sink.WriteVideo(f); err != nil {
			return fmt.Errorf("%w: %w", ErrSink, err)
		}
	}
	return nil
}

// seek repositions the source and restarts the segment at pos.
func (r *run) seek(pos time.Duration) error {
	if err := r.src.seek(pos); err != nil {
		return err
	}
	r.queue = r.queue[:0]
	r.eof = false
	r.emitted = false // a pause before the first frame stays at pos
	r.dropBefore = pos
	r.segPos = pos
	r.segStarted = false
	r.queuedVideo, r.queuedAudio = pos, pos
	if r.venc != nil {
		r.venc.forceKeyframe(-1)
	}
	if r.aenc != nil {
		r.aenc.resetGraph()
	}
	r.encBase = r.lastEncPts + VideoClockRate/10
	r.encSegPosTS = durationToTS(pos, videoClock)
	return nil
}

// playPos is the media position being shown now.
func (r *run) playPos(now time.Time) time.Duration {
	if r.playing && r.segStarted {
		return r.segPos + now.Sub(r.segWall)
	}
	return r.segPos
}

func (r *run) due(pos time.Duration) time.Time {
	if r.cfg.Unpaced {
		return time.Time{}
	}
	return r.segWall.Add(pos - r.segPos)
}

// maybeStartSegment starts playing once the segment's first frame (video,
// if any) is ready, and publishes the new RTP anchors.
func (r *run) maybeStartSegment(now time.Time) {
	if !r.playing || r.segStarted || len(r.queue) == 0 {
		return
	}
	// Wait for the first video frame, unless the video yields nothing
	// while seconds of audio pile up (broken video: play the sound).
	if r.info.HasVideo() && !r.hasQueuedVideo() && !r.eof && r.queuedAudio-r.segPos < noVideoPatience {
		return
	}
	r.segStarted = true
	// Never before the end of what was already sent: a new segment's first
	// Opus packet must not overlap the previous one's 20 ms in RTP time.
	r.segWall = now
	if r.lastDueEnd.After(now) {
		r.segWall = r.lastDueEnd
	}
	if r.cfg.Unpaced {
		// Timestamps still follow media time.
		r.segWall = r.pl.p.Timeline.T0.Add(r.encTime(r.segPos))
	}
	tl := r.pl.p.Timeline
	r.videoAnchor = Anchor{Timestamp: tl.VideoTS(r.segWall), Position: r.segPos}
	r.audioAnchor = Anchor{Timestamp: tl.AudioTS(r.segWall), Position: r.segPos}
	r.pl.notify(func(s *Status) {
		s.State, s.Position = StatePlaying, r.segPos
		s.Video, s.Audio = r.videoAnchor, r.audioAnchor
	})
}

// encTime is the wall offset an unpaced run gives pos: encoder time.
func (r *run) encTime(pos time.Duration) time.Duration {
	return time.Duration((r.encBase + durationToTS(pos, videoClock) - r.encSegPosTS) * int64(time.Second) / VideoClockRate)
}

func (r *run) hasQueuedVideo() bool {
	for _, e := range r.queue {
		if e.layer >= 0 {
			return true
		}
	}
	return false
}

// emitDue hands every frame whose time has come to the sink.
func (r *run) emitDue(now time.Time) error {
	if !r.playing || !r.segStarted {
		return nil
	}
	for len(r.queue) > 0 {
		e := r.queue[0]
		at := r.due(e.pos)
		if !r.cfg.Unpaced && at.After(now) {
			return nil
		}
		r.queue = r.queue[1:]
		if e.pos < r.segPos-time.Millisecond {
			continue // audio straddling a seek target
		}
		f := Frame{Layer: max(e.layer, 0), Data: e.data, Keyframe: e.key, Position: e.pos, EncodeStart: e.start}
		var err error
		if e.layer >= 0 {
			f.Timestamp = r.videoAnchor.Timestamp + roundTicks(e.pos-r.segPos, VideoClockRate)
			err = r.pl.p.Sink.WriteVideo(f)
			r.lastVideo = e.pos
		} else {
			f.Timestamp = r.audioAnchor.Timestamp + roundTicks(e.pos-r.segPos, AudioClockRate)
			err = r.pl.p.Sink.WriteAudio(f)
			r.lastAudio = e.pos
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrSink, err)
		}
		r.emitted = true
		if end := at.Add(max(e.dur, time.Millisecond)); !r.cfg.Unpaced && end.After(r.lastDueEnd) {
			r.lastDueEnd = end
			r.pl.setStatus(func(s *Status) { s.SentUntil = end })
		}
		r.pl.setStatus(func(s *Status) { s.Position = max(s.Position, e.pos) })
	}
	return nil
}

// needMore reports whether to decode further ahead.
func (r *run) needMore(now time.Time) bool {
	if r.eof {
		return false
	}
	if !r.playing || !r.segStarted {
		// Decode until the segment's first frames are ready.
		if r.info.HasVideo() {
			return !r.hasQueuedVideo() && r.queuedAudio-r.segPos < noVideoPatience
		}
		return len(r.queue) == 0
	}
	if r.cfg.Unpaced {
		return len(r.queue) == 0
	}
	pos := r.playPos(now)
	lead := r.queuedVideo
	if r.src.audio != nil && (r.src.video == nil || r.queuedAudio < lead) {
		lead = r.queuedAudio
	}
	ahead := max(r.queuedVideo, r.queuedAudio)
	return lead-pos < r.cfg.Lookahead && ahead-pos < 5*time.Second
}

// noVideoPatience is how much audio may be decoded ahead while waiting
// for a segment's first video frame.
const noVideoPatience = 3 * time.Second

// earlyEnd: a source that ends this much before its declared duration
// was cut short.
const earlyEnd = 1500 * time.Millisecond

// step reads one packet and decodes and encodes what it yields.
func (r *run) step() error {
	pkt, d, err := r.src.read()
	if err != nil {
		if !isAgainOrEOF(err) {
			return err
		}
		r.eof = true
		if d := r.info.Duration; d > 0 && max(r.queuedVideo, r.queuedAudio) < d-earlyEnd {
			return fmt.Errorf("%w: source ended at %v of %v (truncated file or dropped connection)",
				ErrRead, max(r.queuedVideo, r.queuedAudio).Round(time.Millisecond), d.Round(time.Millisecond))
		}
		// Drain the decoders' delayed frames (a nil packet flushes).
		for _, d := range []*decoder{r.src.video, r.src.audio} {
			if d != nil {
				if err := r.decode(d, true); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := d.cc.SendPacket(pkt); err != nil && !isAgainOrEOF(err) {
		d.errRun++
		if d.errRun > maxDecodeErrors {
			return fmt.Errorf("%w: %w", ErrDecode, err)
		}
		return nil
	}
	d.errRun = 0
	return r.decode(d, false)
}

func (r *run) decode(d *decoder, flush bool) error {
	if flush {
		if err := d.cc.SendPacket(nil); err != nil && !isAgainOrEOF(err) {
			return nil
		}
	}
	for {
		d.frame.Unref()
		if err := d.cc.ReceiveFrame(d.frame); err != nil {
			if isAgainOrEOF(err) {
				return nil
			}
			d.errRun++
			if d.errRun > maxDecodeErrors {
				return fmt.Errorf("%w: %w", ErrDecode, err)
			}
			return nil
		}
		var out []encoded
		var err error
		if d == r.src.video {
			out, err = r.encodeVideo(d)
		} else {
			out, err = r.encodeAudio(d)
		}
		if err != nil {
			return err
		}
		r.enqueue(out)
	}
}

func (r *run) framePts(d *decoder) (int64, bool) {
	pts := d.frame.Pts()
	if pts == astiav.NoPtsValue {
		pts = d.frame.PktDts()
	}
	return pts, pts != astiav.NoPtsValue
}

func (r *run) encodeVideo(d *decoder) ([]encoded, error) {
	pts, ok := r.framePts(d)
	pos := r.queuedVideo + 40*time.Millisecond
	if ok {
		pos = r.src.position(d.stream, pts)
	}
	if pos < r.dropBefore-time.Millisecond/2 {
		return nil, nil // decoding forward to the exact seek target
	}
	encPts := r.encBase + durationToTS(pos, videoClock) - r.encSegPosTS
	if encPts <= r.lastEncPts {
		encPts = r.lastEncPts + 1
	}
	r.lastEncPts = encPts
	r.queuedVideo = max(r.queuedVideo, pos)
	start := time.Now()
	out, err := r.venc.encode(d.frame, d.stream.TimeBase(), pos, encPts)
	if cb := r.pl.p.OnVideoEncoded; cb != nil && err == nil {
		cb(time.Since(start))
	}
	for i := range out {
		out[i].start = start
	}
	return out, err
}

func (r *run) encodeAudio(d *decoder) ([]encoded, error) {
	pts, ok := r.framePts(d)
	if !ok {
		return nil, nil
	}
	pos := r.src.position(d.stream, pts)
	if sr := d.frame.SampleRate(); sr > 0 {
		end := pos + time.Duration(d.frame.NbSamples())*time.Second/time.Duration(sr)
		if end <= r.dropBefore {
			return nil, nil
		}
		r.queuedAudio = max(r.queuedAudio, end)
	}
	out, err := r.aenc.encode(d.frame, d.stream.TimeBase(), func(pts int64, tb astiav.Rational) time.Duration {
		return tsToDuration(pts, tb) - r.src.startTime
	})
	return out, err
}

// enqueue inserts frames keeping the queue ordered by position (stable).
func (r *run) enqueue(out []encoded) {
	for _, e := range out {
		i := len(r.queue)
		for i > 0 && r.queue[i-1].pos > e.pos {
			i--
		}
		r.queue = append(r.queue, encoded{})
		copy(r.queue[i+1:], r.queue[i:])
		r.queue[i] = e
	}
}

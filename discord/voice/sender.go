package voice

import (
	"context"
	"math/rand/v2"
	"time"
)

const (
	// frameDuration is the Opus frame length we forward.
	frameDuration = 20 * time.Millisecond
	// samplesPerFrame is 20 ms at the 48 kHz RTP clock.
	samplesPerFrame = 960
	// frameQueueCap bounds the frames between source and sender.
	frameQueueCap = 32
	// maxQueueDepth is the latency budget of the queue: deeper frames are
	// dropped, oldest first, so Discord stays close to the browsers.
	maxQueueDepth = 5
	// silenceFrames is the number of silence frames sent before a break
	// ("Voice Data Interpolation").
	silenceFrames = 5
	// underrunSlots is how many empty slots while playing count as a break.
	underrunSlots = 3
	// standingSlots is the window over which the smallest queue depth is
	// taken: frames that stayed queued for a whole window are a standing
	// delay, not jitter, and are dropped.
	standingSlots = 25
	// phaseGuard places the send ticks after the expected frame arrivals.
	phaseGuard = frameDuration / 2
)

// silenceFrame is the Opus silence frame of "Voice Data Interpolation".
var silenceFrame = [3]byte{0xF8, 0xFF, 0xFE}

// sender is the state of the send loop; only send's goroutine touches it.
type sender struct {
	c        *Conn
	seq      uint16
	ts       uint32
	lastTS   time.Time // wall time of the last packet sent
	playing  bool
	silence  int // silence frames still to send before going idle
	empty    int // consecutive slots without a frame while playing
	winMin   int // smallest queue depth seen in this window
	winSlots int // slots in this window
	hdr      []byte
	pkt      []byte
}

// send paces frames onto the UDP socket every 20 ms on the monotonic clock.
// While idle it blocks on the queue; the RTP timestamp advances by the wall
// time that passed, so receivers see the gap.
func (c *Conn) send(ctx context.Context, frames <-chan Frame) {
	select {
	case <-c.trReady:
	case <-ctx.Done():
		return
	}
	s := &sender{c: c, seq: uint16(rand.Uint32()), ts: rand.Uint32(), hdr: make([]byte, 0, rtpHeaderSize), pkt: make([]byte, 0, 1500)}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var next time.Time
	for {
		if !s.playing && s.silence == 0 {
			f, ok := s.waitAudio(ctx, frames)
			if !ok {
				return
			}
			s.start(ctx, f, frames)
			// Tick half a frame after the frames' arrival phase, so arrival
			// jitter up to ±10 ms neither misses a slot nor queues a frame.
			next = time.Now().Add(frameDuration + phaseGuard)
			continue
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		next = next.Add(frameDuration)
		if late := time.Since(next); late > 5*frameDuration {
			next = time.Now().Add(frameDuration) // stalled (GC, CPU): re-anchor
		}
		s.tick(ctx, frames)
	}
}

// waitAudio blocks until an audio frame arrives; pause markers are skipped.
func (s *sender) waitAudio(ctx context.Context, frames <-chan Frame) (Frame, bool) {
	for {
		select {
		case <-ctx.Done():
			return Frame{}, false
		case f := <-frames:
			if !f.Pause && len(f.Opus) > 0 {
				return f, true
			}
		}
	}
}

// start leaves idle: speaking on, timestamp advanced over the gap, send the
// newest frame (older ones queued while idle or connecting are stale).
func (s *sender) start(ctx context.Context, f Frame, frames <-chan Frame) {
	for len(frames) > 0 {
		if g := <-frames; !g.Pause && len(g.Opus) > 0 {
			f = g
			s.c.m.framesDropped.Inc()
		}
	}
	if !s.lastTS.IsZero() {
		if slots := time.Since(s.lastTS)/frameDuration - 1; slots > 0 {
			s.ts += uint32(slots) * samplesPerFrame
		}
	}
	s.playing = true
	s.empty = 0
	s.c.setSpeaking(ctx, true)
	s.write(f.Opus)
	s.c.m.framesSent.Inc()
}

// tick sends what belongs in one 20 ms slot.
func (s *sender) tick(ctx context.Context, frames <-chan Frame) {
	if !s.playing {
		s.write(silenceFrame[:])
		s.c.m.silenceSent.Inc()
		s.silence--
		if s.silence == 0 {
			s.c.setSpeaking(ctx, false)
		}
		return
	}
	for len(frames) > maxQueueDepth {
		<-frames
		s.c.m.framesDropped.Inc()
	}
	s.trimStanding(frames)
	select {
	case f := <-frames:
		if f.Pause {
			s.stop()
			s.tick(ctx, frames)
			return
		}
		s.empty = 0
		s.write(f.Opus)
		s.c.m.framesSent.Inc()
	default:
		s.c.m.underruns.Inc()
		s.empty++
		s.ts += samplesPerFrame // the slot passed without audio
		if s.empty >= underrunSlots {
			s.stop()
		}
	}
}

// trimStanding drops frames that stayed queued through a whole window, so
// the queue holds at most the frame of the coming slot plus jitter.
func (s *sender) trimStanding(frames <-chan Frame) {
	depth := len(frames)
	if s.winSlots == 0 || depth < s.winMin {
		s.winMin = depth
	}
	if s.winSlots++; s.winSlots < standingSlots {
		return
	}
	for extra := s.winMin - 1; extra > 0 && len(frames) > 1; extra-- {
		<-frames
		s.c.m.framesDropped.Inc()
	}
	s.winSlots = 0
}

// stop begins the five silence frames that precede a break.
func (s *sender) stop() {
	s.playing = false
	s.silence = silenceFrames
}

// write encrypts and sends one RTP packet; UDP errors are logged by the
// gateway side when the session breaks, so they are ignored here.
func (s *sender) write(payload []byte) {
	tr := s.c.transport()
	if tr == nil || !s.c.mayTransmit() {
		return
	}
	s.hdr = rtpHeader(s.hdr, s.seq, s.ts, tr.ssrc)
	s.pkt = tr.sealer.seal(s.pkt[:0], s.hdr, payload)
	_, _ = tr.udp.Write(s.pkt)
	s.seq++
	s.ts += samplesPerFrame
	s.lastTS = time.Now()
}

// setSpeaking records the wanted speaking flag and sends Speaking on the
// current websocket, if there is one ("Speaking").
func (c *Conn) setSpeaking(ctx context.Context, on bool) {
	c.mu.Lock()
	c.speaking = on
	c.mu.Unlock()
	c.announceSpeaking(ctx)
}

// announceSpeaking sends the wanted speaking flag on the current websocket.
func (c *Conn) announceSpeaking(ctx context.Context) {
	c.mu.Lock()
	ws, tr, on := c.ws, c.tr, c.speaking
	c.mu.Unlock()
	if ws == nil || tr == nil {
		return
	}
	flag := 0
	if on {
		flag = 1 // Microphone
	}
	s := &wsSession{c: c, ws: ws}
	if err := s.write(ctx, opSpeaking, speakingData{Speaking: flag, SSRC: tr.ssrc}); err != nil {
		c.log.Debug("speaking update failed", "err", err)
		return
	}
	if on {
		c.mu.Lock()
		c.spokenFor = tr
		c.mu.Unlock()
	}
}

// mayTransmit reports whether Speaking was sent for the current SSRC; it stays
// true across a websocket resume so audio keeps flowing meanwhile.
func (c *Conn) mayTransmit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr != nil && c.spokenFor == c.tr
}

func (c *Conn) wantsSpeaking() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.speaking
}

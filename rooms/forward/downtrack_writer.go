package forward

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// segment maps a run of one layer's packets onto the subscriber's stream.
// A new segment starts at each layer switch or resync, always on a key
// frame, so the output numbering stays continuous.
type segment struct {
	layer     int8
	inStart   uint16 // first input sequence number of the run
	outStart  uint16
	seqOffset uint16 // out = in + seqOffset (mod 2^16)
	tsOffset  uint32 // out = in + tsOffset (mod 2^32)
	picOffset uint16 // VP8 PictureID, mod 2^15
	tl0Offset uint8  // VP8 TL0PICIDX, mod 2^8
	synthPic  bool   // input has no PictureID: count pictures instead
	sent      uint32 // packets forwarded in this segment
}

// longSegment is the packet count after which a segment's start is too far
// behind for 16-bit sequence comparisons with it to mean anything.
const longSegment = 0x4000

// long reports whether the segment has outgrown its start point.
func (s *segment) long() bool { return s.sent >= longSegment }

// nackRepeatInterval is the least time between two resends of one packet.
const nackRepeatInterval = 100 * time.Millisecond

// maxSegments is how many past segments NACKs can still reach.
const maxSegments = 8

// writerState is owned by the DownTrack's writer turns (service).
type writerState struct {
	cur, target int8
	segs        [maxSegments]segment
	nsegs       int // total segments ever started
	started     bool
	lastSeq     uint16
	lastTS      uint32
	lastArrival int64 // arrival of the packet carrying lastTS
	lastPic     uint16
	lastTL0     uint8
	synthPic    uint16
	synthTS     uint32
	synthValid  bool
	resume      bool                   // audio was paused: start a new segment
	resent      [packetCacheSize]int64 // when each output seq was last resent
	lastSR      time.Time
	hdr         rtp.Header
	ext         [2]rtp.Extension // backs hdr's, for the interceptors' TWCC sequence number
	twcc        [2]byte          // the TWCC sequence number of a direct write
	scratch     [1600]byte
}

func (w *writerState) init() { w.cur, w.target = -1, -1 }

// seg returns the current segment; valid once started.
func (w *writerState) seg() *segment { return &w.segs[(w.nsegs-1)%maxSegments] }

// writerTick is how often the writer re-evaluates its layer and sends SRs.
const writerTick = 500 * time.Millisecond

// senderReportInterval is the RTCP SR interval (RFC 3550 §6.2 minimum 5 s
// is relaxed by WebRTC; 1 s keeps A/V sync fresh).
const senderReportInterval = time.Second

// service is one writer turn, run by a WriterPool worker; turns of one
// DownTrack never overlap, so they own writerState. It handles whatever is
// due and forwards up to drainBatch packets, and reports whether packets
// are left for another turn.
func (d *DownTrack) service() (more bool) {
	d.running.Lock()
	defer d.running.Unlock()
	d.wakeDue.Store(false)
	if d.closed.Load() { // an atomic load: ctx.Err takes a lock, on every turn
		return false
	}
	if d.batcher != nil && len(d.queue) > 1 { // one packet (audio, mostly) has nothing to batch with
		held := d.batcher.Hold()
		defer d.batcher.Release(held)
	}
	if d.settingsDue.Swap(false) {
		d.selectLayer()
	}
	d.answerQueuedNACKs()
	if d.tickDue.Swap(false) {
		d.drain() // packets whose wake-up never came (publisher stopped mid-frame)
		d.selectLayer()
		d.maybeSendSR()
		d.tick.Reset(writerTick)
	}
	return d.drain()
}

// answerQueuedNACKs answers the NACKs the RTCP reader has passed on.
func (d *DownTrack) answerQueuedNACKs() {
	for {
		select {
		case seqs := <-d.nacks:
			d.answerNACK(seqs)
		default:
			return
		}
	}
}

// drainBatch is the most packets the writer forwards per wake-up before it
// looks at NACKs, settings and the ticker again.
const drainBatch = 256

// drain forwards the queued packets, up to drainBatch, and reports
// whether more are left.
func (d *DownTrack) drain() (more bool) {
	for range drainBatch {
		select {
		case it := <-d.queue:
			d.forward(it)
		default:
			return false
		}
	}
	return len(d.queue) > 0
}

// forward rewrites and sends one packet, switching layers at key frames.
func (d *DownTrack) forward(it queued) {
	p, w := it.p, &d.w
	b := d.bound.Load()
	if b == nil {
		return
	}
	prevCur, prevStarted, prevSegs := w.cur, w.started, w.nsegs
	if d.kind == webrtc.RTPCodecTypeVideo {
		switch {
		case it.resync && p.keyframe && (p.layer == w.cur || p.layer == w.target):
			d.startSegment(p)
		case p.layer == w.target && p.layer != w.cur && p.keyframe:
			d.startSegment(p)
		case p.layer != w.cur:
			return
		}
	} else if !w.started || w.resume {
		d.startSegment(p)
		w.resume = false
	}
	if !w.started {
		return
	}
	seg := w.seg()
	if seg.layer != p.layer || (!seg.long() && int16(p.hdr.SequenceNumber-seg.inStart) < 0) {
		return // from before the switch point
	}
	if d.beforeWrite != nil {
		d.beforeWrite()
	}
	sent := d.write(b, p, seg, false)
	switch {
	case w.nsegs == prevSegs:
	case !sent:
		// pion discards writes until DTLS-SRTP is up: the stream has not
		// started after all, so wait for the next key frame.
		w.cur, w.started, w.nsegs = prevCur, prevStarted, prevSegs
		d.publishLayers()
	case prevStarted && prevCur != p.layer:
		d.stats.switches.Add(1)
		d.metrics.layerSwitches.Inc()
		d.log.Debug("layer switch", "from", prevCur, "to", p.layer)
	}
}

// startSegment starts forwarding p's layer from p (a key frame for video),
// continuing the output sequence numbers, timestamps and picture IDs.
func (d *DownTrack) startSegment(p *inPacket) {
	w := &d.w
	s := segment{layer: p.layer, inStart: p.hdr.SequenceNumber, synthPic: !p.vp8.hasPicID}
	if w.started {
		s.seqOffset = w.lastSeq + 1 - p.hdr.SequenceNumber
		s.tsOffset = d.tsOffsetFor(p)
		if p.vp8.hasPicID {
			s.picOffset = (w.lastPic + 1 - p.vp8.picID) & 0x7fff
		}
		s.tl0Offset = w.lastTL0 + 1 - p.vp8.tl0PicIdx
	}
	s.outStart = p.hdr.SequenceNumber + s.seqOffset
	w.nsegs++
	*w.seg() = s
	w.started = true
	w.cur = p.layer
	d.publishLayers()
}

// tsOffsetFor returns the timestamp offset that makes p's layer continue
// the output timeline. Layers with a shared clock base need none; else the
// publisher's sender reports map both layers to wall-clock time
// (RFC 3550 §6.4.1), and failing that, arrival times do. Either way a new
// picture never repeats the last timestamp: when the old layer already
// sent this frame's picture, the key frame moves one clock tick later (and
// back to offset 0 at the next switch).
func (d *DownTrack) tsOffsetFor(p *inPacket) uint32 {
	w := &d.w
	clock := float64(d.r.clock)
	out := p.hdr.Timestamp
	if d.r.params.SharedClock {
		if int32(out-w.lastTS) <= 0 {
			out = w.lastTS + 1
		}
		return out - p.hdr.Timestamp
	}
	oldL, newL := d.r.layerAt(w.cur), d.r.layerAt(p.layer)
	var oldSR, newSR *senderReport
	if oldL != nil && newL != nil {
		oldSR, newSR = oldL.sr.Load(), newL.sr.Load()
	}
	if oldSR != nil && newSR != nil {
		secs := float64(int32(p.hdr.Timestamp-newSR.rtp))/clock + ntpDiffSeconds(newSR.ntp, oldSR.ntp)
		out = oldSR.rtp + uint32(int64(secs*clock)) + w.seg().tsOffset
	} else {
		elapsed := float64(p.arrival-w.lastArrival) / 1e9
		out = w.lastTS + uint32(int64(max(elapsed*clock, 1)))
	}
	if int32(out-w.lastTS) <= 0 {
		out = w.lastTS + 1
	}
	return out - p.hdr.Timestamp
}

// write sends p through segment s and reports whether it went out.
// Retransmissions do not move the stream's state or the counters.
func (d *DownTrack) write(b *binding, p *inPacket, s *segment, retransmit bool) bool {
	w := &d.w
	w.hdr = p.hdr // reused: passing a local to WriteRTP would allocate
	h := &w.hdr
	h.Extensions = w.ext[:0] // SetExtension appends here instead of allocating
	h.SSRC, h.PayloadType = b.ssrc, b.pt
	h.SequenceNumber = p.hdr.SequenceNumber + s.seqOffset
	h.Timestamp = p.hdr.Timestamp + s.tsOffset
	payload := p.payload
	var pic uint16
	if d.r.isVP8 {
		if s.synthPic {
			if !retransmit && (!w.synthValid || h.Timestamp != w.synthTS) {
				w.synthPic = (w.lastPic + 1) & 0x7fff
				w.synthTS, w.synthValid = h.Timestamp, true
			}
			pic = w.synthPic
		} else {
			pic = (p.vp8.picID + s.picOffset) & 0x7fff
		}
		n := writeVP8Descriptor(w.scratch[:], &p.vp8, pic, p.vp8.tl0PicIdx+s.tl0Offset)
		n += copy(w.scratch[n:], p.payload[p.vp8.size:])
		payload = w.scratch[:n]
	} else if b.red {
		if payload = d.redPayload(b, p, s); len(payload) == 0 {
			return false
		}
	}
	if !d.send(b, h, payload) {
		return false
	}
	if retransmit {
		return true
	}
	if int16(h.SequenceNumber-w.lastSeq) > 0 || d.stats.packets.Load() == 0 {
		w.lastSeq = h.SequenceNumber
	}
	if int32(h.Timestamp-w.lastTS) >= 0 || d.stats.packets.Load() == 0 {
		w.lastTS, w.lastArrival = h.Timestamp, p.arrival
	}
	if d.r.isVP8 {
		w.lastPic = pic
		if p.vp8.hasTL0 {
			w.lastTL0 = p.vp8.tl0PicIdx + s.tl0Offset
		}
	}
	if s.sent < longSegment {
		s.sent++
	}
	d.stats.packets.Add(1)
	d.stats.octets.Add(uint64(len(payload)))
	if d.kind == webrtc.RTPCodecTypeVideo {
		d.metrics.packetsVideo.Inc()
		d.metrics.bytesVideo.Add(float64(len(payload)))
	} else {
		d.metrics.packetsAudio.Inc()
		d.metrics.bytesAudio.Add(float64(len(payload)))
		if b.red {
			d.metrics.packetsRED.Inc()
		}
	}
	return true
}

// send writes one packet through the direct path when it is ready, or
// else through pion's RTPSender (whose interceptors number it for TWCC).
func (d *DownTrack) send(b *binding, h *rtp.Header, payload []byte) bool {
	if d.direct == nil || !d.direct.Ready() {
		n, err := b.writer.WriteRTP(h, payload)
		return err == nil && n > 0
	}
	if d.stamper != nil && b.twccID != 0 {
		if err := d.stamper.stamp(h, &d.w.twcc, b.twccID, len(payload)); err != nil {
			return false
		}
	}
	return d.direct.WriteRTP(h, payload) == nil
}

// answerNACK retransmits the requested packets (RFC 4585 §6.2.1) from the
// layers' caches, mapped through the segment that carried them.
func (d *DownTrack) answerNACK(seqs []uint16) {
	w := &d.w
	b := d.bound.Load()
	if b == nil || !d.w.started {
		return
	}
	for _, out := range seqs {
		s := d.segmentFor(out)
		if s == nil {
			continue
		}
		l := d.r.layerAt(s.layer)
		if l == nil {
			continue
		}
		p := l.cache.get(out - s.seqOffset)
		if p == nil || (d.r.isVP8 && s.synthPic) {
			continue
		}
		// Resend a packet at most once per nackRepeatInterval: repeated
		// NACKs for it are already answered, or the path is congested.
		now := d.r.params.Now().UnixNano()
		if last := w.resent[out%packetCacheSize]; last != 0 && now-last < int64(nackRepeatInterval) {
			continue
		}
		w.resent[out%packetCacheSize] = now
		if d.write(b, p, s, true) {
			d.stats.nacksAnswered.Add(1)
			d.metrics.nacksAnswered.Inc()
		}
	}
}

// segmentFor finds the segment that sent output sequence number out, or
// nil if out is newer than anything sent or too old.
func (d *DownTrack) segmentFor(out uint16) *segment {
	w := &d.w
	if uint16(w.lastSeq-out) >= 0x8000 {
		return nil
	}
	end := w.lastSeq + 1
	for i := range min(w.nsegs, maxSegments) {
		s := &w.segs[(w.nsegs-1-i)%maxSegments]
		if s.long() || uint16(out-s.outStart) < uint16(end-s.outStart) {
			return s
		}
		end = s.outStart
	}
	return nil
}

// maybeSendSR sends an RTCP sender report (RFC 3550 §6.4.1) once per
// senderReportInterval. Its NTP/RTP pair comes from the publisher's latest
// SR for the current layer, so audio and video stay in sync at the
// subscriber; without one, from the local clock and the last packet.
func (d *DownTrack) maybeSendSR() {
	w := &d.w
	now := d.r.params.Now()
	if !w.started || d.stats.packets.Load() == 0 || now.Sub(w.lastSR) < senderReportInterval {
		return
	}
	b, s := d.bound.Load(), d.sender.Load()
	if b == nil || s == nil || s.Transport() == nil {
		return
	}
	w.lastSR = now
	seg := w.seg()
	clock := float64(d.r.clock)
	sr := &rtcp.SenderReport{
		SSRC:        b.ssrc,
		PacketCount: uint32(d.stats.packets.Load()),
		OctetCount:  uint32(d.stats.octets.Load()),
	}
	var up *senderReport
	if l := d.r.layerAt(seg.layer); l != nil {
		up = l.sr.Load()
	}
	if up != nil {
		el := time.Duration(now.UnixNano() - up.at)
		sr.NTPTime = up.ntp + durationToNTP(el)
		sr.RTPTime = up.rtp + uint32(int64(el.Seconds()*clock)) + seg.tsOffset
	} else {
		sr.NTPTime = timeToNTP(now)
		sr.RTPTime = w.lastTS + uint32(int64(float64(now.UnixNano()-w.lastArrival)/1e9*clock))
	}
	if _, err := s.Transport().WriteRTCP([]rtcp.Packet{sr}); err != nil {
		d.log.Debug("sender report", "err", err)
	}
}

// ntpEpochOffset is the seconds from 1900 (NTP era 0) to 1970.
const ntpEpochOffset = 2208988800

// timeToNTP converts t to the 64-bit NTP format of RFC 3550 §4.
func timeToNTP(t time.Time) uint64 {
	ns := t.UnixNano()
	secs := uint64(ns/1e9) + ntpEpochOffset
	frac := (uint64(ns%1e9) << 32) / 1e9
	return secs<<32 | frac
}

// durationToNTP converts a duration to 32.32 fixed point seconds.
func durationToNTP(d time.Duration) uint64 {
	return uint64(d.Seconds() * (1 << 32))
}

// ntpDiffSeconds returns a-b in seconds.
func ntpDiffSeconds(a, b uint64) float64 {
	return float64(int64(a-b)) / (1 << 32)
}

package forward

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// captureWriter records what a DownTrack wrote.
type captureWriter struct {
	seqs []uint16
	pics []uint16
}

func (w *captureWriter) WriteRTP(h *rtp.Header, p []byte) (int, error) {
	w.seqs = append(w.seqs, h.SequenceNumber)
	d, _ := parseVP8Descriptor(p)
	w.pics = append(w.pics, d.picID)
	return len(p) + 12, nil
}

func (w *captureWriter) Write(b []byte) (int, error) { return len(b), nil }

type captureContext struct {
	fakeContext
	w *captureWriter
}

func (c captureContext) WriteStream() webrtc.TrackLocalWriter { return c.w }

// TestLongSegmentAndNACKMapping drives the writer synchronously through
// more than 2^15 packets on one layer (sequence numbers wrap), a switch,
// and NACKs that reach back across the switch.
func TestLongSegmentAndNACKMapping(t *testing.T) {
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8Codec, SharedClock: true})
	defer r.Close()
	high, low := &layer{quality: QualityHigh, ssrc: 3}, &layer{quality: QualityLow, ssrc: 1}
	r.layers[2], r.layers[0] = high, low
	d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
	_ = d.Close() // drive the writer from the test
	w := &captureWriter{}
	if _, err := d.Bind(captureContext{fakeContext: fakeContext{codec: vp8Codec}, w: w}); err != nil {
		t.Fatal(err)
	}
	packet := func(l *layer, seq uint16, frame int, key bool) *inPacket {
		pl := vp8Frame(testLayers[l.quality], int(l.quality), uint16(frame), uint8(frame), key)[0]
		raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(frame) * 3000},
			Payload: pl}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p, ok := r.parse(l, raw)
		if !ok {
			t.Fatal("parse")
		}
		l.cache.put(p)
		return p
	}

	d.w.target = 2
	const n = 40000
	for i := range n {
		d.forward(queued{p: packet(high, uint16(60000+i), i, i == 0)})
	}
	if len(w.seqs) != n {
		t.Fatalf("wrote %d of %d packets on one long segment", len(w.seqs), n)
	}
	last := w.seqs[n-1]

	d.w.target = 0
	d.forward(queued{p: packet(low, 500, n, false)}) // not a key frame: ignored
	d.forward(queued{p: packet(low, 501, n+1, true)})
	if len(w.seqs) != n+1 || w.seqs[n] != last+1 {
		t.Fatalf("switch wrote seqs %v after %d", w.seqs[n:], last)
	}
	if w.pics[n] != (w.pics[n-1]+1)&0x7fff {
		t.Fatalf("PictureID %d after %d", w.pics[n], w.pics[n-1])
	}

	tests := []struct {
		name  string
		out   uint16
		layer int8
		found bool
	}{
		{"newest packet", last + 1, 0, true},
		{"last of the long segment", last, 2, true},
		{"deep in the long segment", last - 300, 2, true},
		{"not sent yet", last + 2, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := d.segmentFor(tt.out)
			if (s != nil) != tt.found || (s != nil && s.layer != tt.layer) {
				t.Fatalf("segmentFor(%d) = %+v", tt.out, s)
			}
		})
	}

	before := len(w.seqs)
	d.answerNACK([]uint16{last - 300, last, last + 1, last - 5000})
	got := w.seqs[before:]
	// last-5000 was evicted from the 512-packet cache.
	if len(got) != 3 || got[0] != last-300 || got[1] != last || got[2] != last+1 {
		t.Fatalf("retransmitted %v", got)
	}
	if st := d.Stats(); st.NACKsAnswered != 3 || st.Packets != n+1 || st.LayerSwitches != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestAudioPauseResumeAndNACKRepeat pauses an audio DownTrack
// (QualityOff), resumes it with continuous numbering, and checks a packet
// is resent once however often it is NACKed within the repeat interval.
func TestAudioPauseResumeAndNACKRepeat(t *testing.T) {
	now := time.Unix(5000, 0)
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeAudio, Codec: opus, Now: func() time.Time { return now }})
	defer r.Close()
	l := &layer{quality: QualityLow, ssrc: 7}
	r.layers[0] = l
	d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
	_ = d.Close()
	w := &captureWriter{}
	if _, err := d.Bind(captureContext{fakeContext: fakeContext{codec: opus}, w: w}); err != nil {
		t.Fatal(err)
	}
	send := func(seq uint16) {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960},
			Payload: []byte{0xfc, 1, 2}}).Marshal()
		p, ok := r.parse(l, raw)
		if !ok {
			t.Fatal("parse")
		}
		l.cache.put(p)
		if d.layerMask.Load() != 0 {
			d.forward(queued{p: p})
		}
	}
	d.selectLayer()
	for seq := uint16(100); seq < 110; seq++ {
		send(seq)
	}
	d.SetMaxQuality(QualityOff)
	d.selectLayer()
	for seq := uint16(110); seq < 150; seq++ {
		send(seq) // paused: not forwarded
	}
	d.SetMaxQuality(QualityHigh)
	d.selectLayer()
	send(150)
	if len(w.seqs) != 11 || w.seqs[10] != w.seqs[9]+1 {
		t.Fatalf("after resume wrote seqs %v", w.seqs)
	}
	before := len(w.seqs)
	d.answerNACK([]uint16{105, 105})
	now = now.Add(50 * time.Millisecond)
	d.answerNACK([]uint16{105})
	if got := len(w.seqs) - before; got != 1 {
		t.Fatalf("resent %d times within the repeat interval, want 1", got)
	}
	now = now.Add(nackRepeatInterval)
	d.answerNACK([]uint16{105})
	if got := len(w.seqs) - before; got != 2 || w.seqs[len(w.seqs)-1] != 105 {
		t.Fatalf("resends %v", w.seqs[before:])
	}
}

// TestH264SwitchesOnlyAtIDR feeds two H.264 layers and checks the writer
// switches at the first packet of the target layer's key frame (here a
// STAP-A with SPS/PPS, RFC 6184 §5.7.1), not at a delta frame, and that
// only the first key-frame packet of an access unit is a switch point.
func TestH264SwitchesOnlyAtIDR(t *testing.T) {
	h264 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102}
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeVideo, Codec: h264, SharedClock: true})
	defer r.Close()
	low, high := &layer{quality: QualityLow, ssrc: 1}, &layer{quality: QualityHigh, ssrc: 3}
	r.layers[0], r.layers[2] = low, high
	d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
	_ = d.Close()
	w := &captureWriter{}
	if _, err := d.Bind(captureContext{fakeContext: fakeContext{codec: h264}, w: w}); err != nil {
		t.Fatal(err)
	}
	var (
		stapSPS  = []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}
		fuIDR    = []byte{0x7c, 0x85, 0x88, 0x80}
		fuIDRend = []byte{0x7c, 0x45, 0x88, 0x80}
		delta    = []byte{0x41, 0x9a, 0x00}
	)
	seqs := map[*layer]uint16{low: 1000, high: 5000}
	send := func(l *layer, ts uint32, payload []byte) bool {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seqs[l], Timestamp: ts},
			Payload: payload}).Marshal()
		seqs[l]++
		p, ok := r.parse(l, raw)
		if !ok {
			t.Fatal("parse")
		}
		n := len(w.seqs)
		d.forward(queued{p: p})
		return len(w.seqs) > n
	}
	d.w.target = 0
	if !send(low, 3000, stapSPS) || !send(low, 3000, fuIDR) || !send(low, 3000, fuIDRend) || !send(low, 6000, delta) {
		t.Fatal("low layer not forwarded from its key frame")
	}
	d.w.target = 2
	steps := []struct {
		l    *layer
		ts   uint32
		pl   []byte
		want bool
		name string
	}{
		{high, 6000, delta, false, "high delta frame"},
		{low, 9000, delta, true, "low layer while waiting"},
		{high, 12000, stapSPS, true, "high key frame start"},
		{high, 12000, fuIDR, true, "rest of the access unit (IDR not a new switch point)"},
		{low, 15000, delta, false, "old layer after the switch"},
		{high, 15000, delta, true, "high delta"},
	}
	for _, s := range steps {
		if got := send(s.l, s.ts, s.pl); got != s.want {
			t.Fatalf("%s: forwarded=%v, want %v", s.name, got, s.want)
		}
	}
	for i := 1; i < len(w.seqs); i++ {
		if w.seqs[i] != w.seqs[i-1]+1 {
			t.Fatalf("seqs not continuous: %v", w.seqs)
		}
	}
	// Switch points: the first key-frame packet of each access unit.
	for i, c := range []struct {
		ts   uint32
		pl   []byte
		want bool
	}{{30000, stapSPS, true}, {30000, fuIDR, false}, {33000, fuIDR, true}, {36000, delta, false}} {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: c.ts},
			Payload: c.pl}).Marshal()
		if p, _ := r.parse(high, raw); p.keyframe != c.want {
			t.Fatalf("packet %d at ts %d: keyframe=%v, want %v", i, c.ts, p.keyframe, c.want)
		}
	}
}

// TestDimensionsTakePrecedence: LiveKit clients with adaptive stream send
// width/height and leave quality at LOW; the dimensions decide.
func TestDimensionsTakePrecedence(t *testing.T) {
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8Codec, SharedClock: true})
	defer r.Close()
	now := time.Now().UnixNano()
	for q := range int8(3) {
		r.layers[q] = &layer{quality: Quality(q), added: now}
	}
	d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
	_ = d.Close()
	tests := []struct {
		name string
		q    Quality
		w, h int
		want int8
	}{
		{"quality cap alone", QualityLow, 0, 0, 0},
		{"dimensions override a LOW quality", QualityLow, 1280, 720, 2},
		{"small element", QualityHigh, 320, 180, 0},
		{"medium element", QualityHigh, 600, 300, 1},
		{"off pauses whatever the size", QualityOff, 1280, 720, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.SetMaxQuality(tt.q)
			d.SetMaxDimensions(tt.w, tt.h)
			d.selectLayer()
			if d.w.target != tt.want {
				t.Fatalf("target %d, want %d", d.w.target, tt.want)
			}
		})
	}
}

package forward

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// benchAudio drives one audio DownTrack's writer over 20 ms Opus packets
// of 320 bytes (128 kbit/s), bound with ctx.
func benchAudio(b *testing.B, bind func(d *DownTrack, w *discardWriter) error) {
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeAudio, Codec: opusCodecBench})
	l := &layer{quality: QualityLow, ssrc: 7}
	r.layers[0] = l
	pkts := make([]*inPacket, 256)
	for i := range pkts {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i) * 960},
			Payload: make([]byte, 320)}).Marshal()
		p, ok := r.parse(l, raw)
		if !ok {
			b.Fatal("parse")
		}
		pkts[i] = p
	}
	d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
	_ = d.Close()
	w := &discardWriter{}
	if err := bind(d, w); err != nil {
		b.Fatal(err)
	}
	d.selectLayer()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := pkts[i%len(pkts)]
		l.cache.put(p)
		d.forward(queued{p: p})
	}
	if w.n.Load() == 0 {
		b.Fatal("nothing written")
	}
}

var opusCodecBench = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
	MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}

// BenchmarkForwardAudio is the writer's per-packet work for one audio
// subscriber, plain Opus and RED.
func BenchmarkForwardAudio(b *testing.B) {
	b.Run("opus", func(b *testing.B) {
		benchAudio(b, func(d *DownTrack, w *discardWriter) error {
			_, err := d.Bind(fakeContext{codec: opusCodecBench, w: w})
			return err
		})
	})
	// A subscriber that negotiated RED: the primary and two earlier
	// packets from the cache, copied into one payload.
	b.Run("red", func(b *testing.B) {
		benchAudio(b, func(d *DownTrack, w *discardWriter) error {
			_, err := d.Bind(redContext{have: []webrtc.RTPCodecParameters{opusCodecBench, redCodecParams},
				w: w})
			return err
		})
	})
}

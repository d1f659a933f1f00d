package forward

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// discardWriter counts packets instead of sending them.
type discardWriter struct{ n atomic.Int64 }

func (w *discardWriter) WriteRTP(h *rtp.Header, p []byte) (int, error) {
	w.n.Add(1)
	return h.MarshalSize() + len(p), nil
}

func (w *discardWriter) Write(b []byte) (int, error) { w.n.Add(1); return len(b), nil }

// fakeContext is a bound RTPSender as pion would pass to Bind.
type fakeContext struct {
	codec webrtc.RTPCodecParameters
	w     *discardWriter
}

func (c fakeContext) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{c.codec}
}
func (c fakeContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter {
	return nil
}
func (c fakeContext) SSRC() webrtc.SSRC                       { return 1234 }
func (c fakeContext) SSRCRetransmission() webrtc.SSRC         { return 0 }
func (c fakeContext) SSRCForwardErrorCorrection() webrtc.SSRC { return 0 }
func (c fakeContext) WriteStream() webrtc.TrackLocalWriter    { return c.w }
func (c fakeContext) ID() string                              { return "bench" }
func (c fakeContext) RTCPReader() interceptor.RTCPReader      { return nil }

var vp8Codec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
	MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}

// benchPackets parses a GOP of synthetic 720p-layer packets once.
func benchPackets(b *testing.B, r *Receiver, l *layer) []*inPacket {
	b.Helper()
	var out []*inPacket
	seq := uint16(0)
	for f := range 60 {
		for _, pl := range vp8Frame(testLayers[2], 2, uint16(f), uint8(f), f == 0) {
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq,
				Timestamp: uint32(f) * 3000, SSRC: 99}, Payload: append(pl, make([]byte, 100)...)}
			seq++
			raw, err := pkt.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			p, ok := r.parse(l, raw)
			if !ok {
				b.Fatal("parse failed")
			}
			out = append(out, p)
		}
	}
	return out
}

// BenchmarkForwardRewrite is the writer's per-packet work for one
// subscriber: layer check, seq/ts/PictureID rewrite, WriteRTP (discarded).
func BenchmarkForwardRewrite(b *testing.B) {
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8Codec, SharedClock: true})
	l := &layer{quality: QualityHigh, ssrc: 99}
	r.layers[2] = l
	pkts := benchPackets(b, r, l)
	d := NewDownTrack(r, DownTrackParams{SubscriberID: "s"})
	_ = d.Close() // stop its goroutines: this benchmark drives the writer itself
	w := &discardWriter{}
	if _, err := d.Bind(fakeContext{codec: vp8Codec, w: w}); err != nil {
		b.Fatal(err)
	}
	d.w.target = 2
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := pkts[i%len(pkts)]
		d.forward(queued{p: p})
	}
	if w.n.Load() == 0 {
		b.Fatal("nothing written")
	}
}

// BenchmarkFanout is the whole forwarding path for one incoming packet and
// 100 subscribers: parse, cache, enqueue to each DownTrack, and each
// writer's rewrite and WriteRTP (discarded). ns/fwd-pkt is per packet
// forwarded to one subscriber.
func BenchmarkFanout(b *testing.B) {
	b.Run("shared-pool", func(b *testing.B) {
		pool := NewWriterPool(runtime.GOMAXPROCS(0), nil)
		defer pool.Close()
		benchFanout(b, pool)
	})
	// Each DownTrack with a pool (a goroutine) of its own, as writers were
	// before the shared pool.
	b.Run("own-goroutine", func(b *testing.B) { benchFanout(b, nil) })
}

func benchFanout(b *testing.B, pool *WriterPool) {
	const subs = 100
	r := NewReceiver(ReceiverParams{Kind: webrtc.RTPCodecTypeVideo, Codec: vp8Codec, SharedClock: true, Writers: pool})
	l := &layer{quality: QualityHigh, ssrc: 99}
	r.layers[2] = l
	var raws [][]byte
	for _, p := range benchPackets(b, r, l) {
		raws = append(raws, p.buf)
	}
	w := &discardWriter{}
	var downs []*DownTrack
	for range subs {
		d := NewDownTrack(r, DownTrackParams{SubscriberID: "s", QueueSize: 4096})
		if _, err := d.Bind(fakeContext{codec: vp8Codec, w: w}); err != nil {
			b.Fatal(err)
		}
		downs = append(downs, d)
	}
	r.downs.Store(&downs)
	// Wait for the writers to target the top layer.
	for _, d := range downs {
		for d.layerMask.Load()&4 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	expected := int64(0)
	for i := range b.N {
		raw := append([]byte(nil), raws[i%len(raws)]...)
		// Keep sequence numbers moving across GOP repeats.
		seq := uint16(i)
		raw[2], raw[3] = byte(seq>>8), byte(seq)
		p, ok := r.parse(l, raw)
		if !ok {
			b.Fatal("parse")
		}
		l.cache.put(p)
		for _, d := range downs {
			d.enqueue(p)
		}
		if w.n.Load() > 0 {
			expected += subs
		}
		// Stay below the queues' bound, as a live publisher does.
		for w.n.Load() < expected-subs*64 && time.Since(start) < time.Minute {
			runtime.Gosched()
		}
	}
	for w.n.Load() < expected && time.Since(start) < time.Minute {
		runtime.Gosched()
	}
	b.StopTimer()
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(max(w.n.Load(), 1)), "ns/fwd-pkt")
	var dropped uint64
	for _, d := range downs {
		dropped += d.Stats().Dropped
		_ = d.Close()
	}
	b.ReportMetric(float64(dropped), "dropped")
}

// BenchmarkSRTPEncrypt compares the SRTP profiles for a 1,200-byte packet
// (the SFU's cost per forwarded packet after the rewrite).
func BenchmarkSRTPEncrypt(b *testing.B) {
	for _, tc := range []struct {
		name    string
		profile srtp.ProtectionProfile
	}{
		{"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm},
		{"AES128_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80},
	} {
		b.Run(tc.name, func(b *testing.B) {
			kl, _ := tc.profile.KeyLen()
			sl, _ := tc.profile.SaltLen()
			ctx, err := srtp.CreateContext(make([]byte, kl), make([]byte, sl), tc.profile)
			if err != nil {
				b.Fatal(err)
			}
			raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 5},
				Payload: make([]byte, 1200)}).Marshal()
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, 0, 1500)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for i := range b.N {
				raw[2], raw[3] = byte(i>>8), byte(i)
				if dst, err = ctx.EncryptRTP(dst[:0], raw, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package forward

import (
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// unwrapSeqs returns the distinct sequence numbers as int64s in order,
// unwrapped around the first one.
func unwrapSeqs(got []received) []int64 {
	if len(got) == 0 {
		return nil
	}
	base := got[0].seq
	seen := map[int64]bool{}
	var out []int64
	for _, r := range got {
		v := int64(int16(r.seq - base))
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// assertContinuous fails if any sequence number between the first and
// last received is missing.
func assertContinuous(t *testing.T, name string, got []received) {
	t.Helper()
	seqs := unwrapSeqs(got)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("%s: sequence gap between %d and %d (of %d packets)", name, seqs[i-1], seqs[i], len(seqs))
		}
	}
}

type rig struct {
	reg     *prometheus.Registry
	metrics *Metrics
	sfuAPI  *webrtc.API
	ccl     *CongestionControl
	pub     *publisher
	sfuPub  *webrtc.PeerConnection
	recv    *Receiver
	pool    *WriterPool
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := newBenchRig(t)
	t.Cleanup(r.close)
	return r
}

// newBenchRig is newRig for benchmarks too; the caller closes it.
func newBenchRig(t testing.TB) *rig {
	t.Helper()
	r := &rig{reg: prometheus.NewRegistry()}
	var err error
	if r.metrics, err = NewMetrics(r.reg); err != nil {
		t.Fatal(err)
	}
	r.sfuAPI, r.ccl = newSFUAPI(t, nil, CongestionParams{})
	r.pub = newPublisher(t, newClientAPI(t, nil), testLayers)
	// One worker, as few as a busy SFU may have free: a blocked subscriber
	// must make the pool start another.
	r.pool = NewWriterPool(1, nil)
	r.sfuPub, r.recv = sfuPublisherSide(t, r.sfuAPI, r.pub, ReceiverParams{
		TrackID: "TR_video", StreamID: "PA_pub", SharedClock: true, Metrics: r.metrics, Writers: r.pool})
	return r
}

func (r *rig) close() {
	_ = r.recv.Close()
	r.pool.Close()
	r.pub.close()
	_ = r.sfuPub.GracefulClose()
}

func (r *rig) subscribe(t *testing.T, id string, clientAPI *webrtc.API, tune func(*DownTrackParams)) *subscriber {
	t.Helper()
	if clientAPI == nil {
		clientAPI = newClientAPI(t, nil)
	}
	s := newSubscriber(t, r.sfuAPI, r.ccl, clientAPI, r.recv, id, tune)
	t.Cleanup(s.close)
	return s
}

func TestSimulcastForwardingAndSwitch(t *testing.T) {
	r := newRig(t)
	high := r.subscribe(t, "high", nil, nil)
	low := r.subscribe(t, "low", nil, nil) // starts capped at QualityLow

	waitFor(t, 20*time.Second, "both subscribers to get 60 packets", func() bool {
		return len(high.packets()) >= 60 && len(low.packets()) >= 60
	})
	for _, p := range low.packets() {
		if p.layer != '0' {
			t.Fatalf("low subscriber got layer %c", p.layer)
		}
	}
	if first := high.packets()[0]; first.layer != '2' || !first.keyframe {
		t.Fatalf("high subscriber started on layer %c keyframe=%v, want layer 2 key frame", first.layer, first.keyframe)
	}

	before := len(low.packets())
	low.dt.SetMaxQuality(QualityHigh)
	waitFor(t, 20*time.Second, "low subscriber to switch up", func() bool {
		ps := low.packets()
		return ps[len(ps)-1].layer == '2' && len(ps) > before+30
	})

	got := low.packets()
	assertContinuous(t, "low", got)
	assertContinuous(t, "high", high.packets())
	switches := 0
	for i := 1; i < len(got); i++ {
		prev, cur := got[i-1], got[i]
		if cur.ts < prev.ts && int32(cur.ts-prev.ts) < 0 {
			t.Fatalf("timestamp went back at %d: %d -> %d", i, prev.ts, cur.ts)
		}
		if cur.layer == prev.layer {
			continue
		}
		switches++
		if !cur.keyframe {
			t.Fatalf("switch %c->%c not on a key frame", prev.layer, cur.layer)
		}
		if cur.seq != prev.seq+1 {
			t.Fatalf("switch: seq %d -> %d", prev.seq, cur.seq)
		}
		if cur.pic != (prev.pic+1)&0x7fff {
			t.Fatalf("switch: PictureID %d -> %d, want +1", prev.pic, cur.pic)
		}
		if cur.ts == prev.ts {
			t.Fatalf("switch: same timestamp %d", cur.ts)
		}
	}
	if switches != 1 {
		t.Fatalf("saw %d layer switches, want 1", switches)
	}
	// PictureIDs within a layer run +1 per frame, across the 15-bit wrap.
	for i := 1; i < len(got); i++ {
		if got[i].ts != got[i-1].ts && got[i].pic != (got[i-1].pic+1)&0x7fff {
			t.Fatalf("PictureID %d -> %d across frames", got[i-1].pic, got[i].pic)
		}
	}
	if v := counterValue(t, r.reg, "marquee_sfu_forward_layer_switches_total"); v < 1 {
		t.Fatalf("layer switch metric = %v", v)
	}
	if v := counterValue(t, r.reg, MetricPacketsForwarded); v < 120 {
		t.Fatalf("packets metric = %v", v)
	}
}

func TestSlowSubscriberDoesNotStallOthers(t *testing.T) {
	r := newRig(t)
	release := make(chan struct{})
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // a failed wait must not leave the writer blocked
	var blocking atomic.Bool
	slow := r.subscribe(t, "slow", nil, func(p *DownTrackParams) {
		p.QueueSize = 16
		p.beforeWrite = func() {
			if blocking.Load() {
				<-release
			}
		}
	})
	fast := r.subscribe(t, "fast", nil, nil)
	waitFor(t, 20*time.Second, "both flowing", func() bool {
		return len(slow.packets()) > 20 && len(fast.packets()) > 20
	})

	blocking.Store(true)
	waitFor(t, 20*time.Second, "slow subscriber to drop", func() bool { return slow.dt.Stats().Dropped > 0 })
	n := len(fast.packets())
	waitFor(t, 20*time.Second, "fast subscriber to keep receiving", func() bool { return len(fast.packets()) > n+60 })
	blocking.Store(false)
	unblock()
	m := len(slow.packets())
	waitFor(t, 20*time.Second, "slow subscriber to recover", func() bool { return len(slow.packets()) > m+60 })

	assertContinuous(t, "fast", fast.packets())
	assertContinuous(t, "slow", slow.packets())
	// After the stall, the slow subscriber resumed on a key frame.
	got := slow.packets()
	for i := 1; i < len(got); i++ {
		if got[i].pic != got[i-1].pic && got[i].pic != (got[i-1].pic+1)&0x7fff && !got[i].keyframe {
			t.Fatalf("resumed at PictureID %d after %d without a key frame", got[i].pic, got[i-1].pic)
		}
	}
	if v := counterValue(t, r.reg, MetricDroppedPackets); v < 1 {
		t.Fatalf("dropped metric = %v", v)
	}
	if fast.dt.Stats().Dropped != 0 {
		t.Fatalf("fast subscriber dropped %d", fast.dt.Stats().Dropped)
	}
}

// dropper is an innermost client interceptor that loses every 25th RTP
// packet once, so the NACK generator above it asks for it again.
type dropper struct {
	interceptor.NoOp
	n       atomic.Int64
	dropped atomic.Int64
	seen    map[uint16]bool
}

func (d *dropper) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

func (d *dropper) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := r.Read(b, a)
			if err != nil || n < 4 {
				return n, attr, err
			}
			seq := uint16(b[2])<<8 | uint16(b[3])
			if d.n.Add(1)%25 == 0 && !d.seen[seq] && d.dropped.Load() < 20 {
				d.seen[seq] = true
				d.dropped.Add(1)
				continue
			}
			return n, attr, err
		}
	})
}

func TestNACKAnsweredFromCache(t *testing.T) {
	r := newRig(t)
	d := &dropper{seen: map[uint16]bool{}}
	s := r.subscribe(t, "lossy", newClientAPI(t, nil, d), nil)
	waitFor(t, 30*time.Second, "10 packets lost and retransmitted", func() bool {
		return d.dropped.Load() >= 10 && s.dt.Stats().NACKsAnswered >= 10
	})
	got := s.packets()
	waitFor(t, 10*time.Second, "retransmissions to fill the gaps", func() bool {
		got = s.packets()
		seqs := unwrapSeqs(got)
		for i := 1; i < len(seqs)-10; i++ { // the newest may still be in flight
			if seqs[i] != seqs[i-1]+1 {
				return false
			}
		}
		return true
	})
	if v := counterValue(t, r.reg, "marquee_sfu_forward_nacks_answered_total"); v < 10 {
		t.Fatalf("nacks answered metric = %v", v)
	}
	if v := counterValue(t, r.reg, "marquee_sfu_forward_nacks_received_total"); v < 10 {
		t.Fatalf("nacks received metric = %v", v)
	}
}

func TestPLIForwardedThrottled(t *testing.T) {
	r := newRig(t)
	s := r.subscribe(t, "pli", nil, nil)
	waitFor(t, 20*time.Second, "media", func() bool { return len(s.packets()) > 30 })
	before := r.pub.plis[2].Load()
	start := time.Now()
	for range 120 {
		if err := s.client.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: s.ssrc.Load()}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the last PLI reach the publisher
	elapsed := time.Since(start)
	got := r.pub.plis[2].Load() - before
	limit := 1 + int64(elapsed/keyframeRequestInterval)
	if got < 1 || got > limit {
		t.Fatalf("publisher got %d PLIs for 120 sent over %v; want 1..%d", got, elapsed, limit)
	}
	if v := counterValue(t, r.reg, "marquee_sfu_forward_plis_forwarded_total"); v < 1 {
		t.Fatalf("plis metric = %v", v)
	}
}

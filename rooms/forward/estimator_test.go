package forward

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// estimatorRig drives a twccEstimator with a fake clock over a simulated
// link: packets leave 5 ms apart, cross a bottleneck that needs linkGap
// per packet after 10 ms of propagation, and come back as transport-cc
// feedback.
type estimatorRig struct {
	e       *twccEstimator
	w       interceptor.RTPWriter
	seq     uint16
	start   time.Time
	now     time.Time
	lastArr int64         // µs since start
	sendGap time.Duration // between packets; 0 means 5 ms
}

func newEstimatorRig(initial int) *estimatorRig {
	r := &estimatorRig{start: time.Unix(100, 0)}
	r.now = r.start
	r.e = newTWCCEstimator(CongestionParams{InitialBitrate: initial, MinBitrate: 50_000, MaxBitrate: 10_000_000})
	r.e.now = func() time.Time { return r.now }
	r.w = r.e.BindLocalStream(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{
		{URI: transportCCURI, ID: 5}}}, interceptor.RTPWriterFunc(
		func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	return r
}

// round sends n 1,000-byte packets sendGap apart and feeds back their
// fate; every lossEvery-th is lost.
func (r *estimatorRig) round(n int, linkGap time.Duration, lossEvery int) {
	base := r.seq
	var symbols []uint16
	var arrivals []int64
	for i := range n {
		h := &rtp.Header{Version: 2}
		_ = h.SetExtension(5, []byte{byte(r.seq >> 8), byte(r.seq)})
		_, _ = r.w.Write(h, make([]byte, 1000), nil)
		r.seq++
		sent := r.now.Sub(r.start).Microseconds()
		gap := r.sendGap
		if gap == 0 {
			gap = 5 * time.Millisecond
		}
		r.now = r.now.Add(gap)
		if lossEvery > 0 && i%lossEvery == 0 {
			symbols = append(symbols, rtcp.TypeTCCPacketNotReceived)
			continue
		}
		r.lastArr = max(sent+10_000, r.lastArr+linkGap.Microseconds())
		arrivals = append(arrivals, r.lastArr)
		symbols = append(symbols, rtcp.TypeTCCPacketReceivedSmallDelta)
	}
	ref := arrivals[0] / 64000
	prev := ref * 64000
	var deltas []*rtcp.RecvDelta
	for _, a := range arrivals {
		deltas = append(deltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: a - prev})
		prev = a
	}
	r.e.onFeedback(&rtcp.TransportLayerCC{BaseSequenceNumber: base, PacketStatusCount: uint16(n),
		ReferenceTime: uint32(ref),
		PacketChunks:  []rtcp.PacketStatusChunk{&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: symbols}},
		RecvDeltas:    deltas})
}

func TestTWCCEstimator(t *testing.T) {
	tests := []struct {
		name      string
		rounds    int
		linkGap   time.Duration // bottleneck time per packet; packets leave 5 ms apart
		lossEvery int
		check     func(t *testing.T, start, end int)
	}{
		{"clean path grows", 20, time.Millisecond, 0, func(t *testing.T, start, end int) {
			if end <= start {
				t.Fatalf("estimate %d -> %d, want growth", start, end)
			}
		}},
		{"heavy loss shrinks", 10, time.Millisecond, 3, func(t *testing.T, start, end int) {
			if end > start/3 {
				t.Fatalf("estimate %d -> %d under 33%% loss", start, end)
			}
		}},
		{"queue growth backs off to the receive rate", 20, 8 * time.Millisecond, 0, func(t *testing.T, start, end int) {
			// The bottleneck carries 1,012 bytes per 8 ms, about 1 Mbit/s.
			if end > 1_100_000 {
				t.Fatalf("estimate %d -> %d with a growing queue", start, end)
			}
		}},
		{"light loss holds", 20, time.Millisecond, 20, func(t *testing.T, start, end int) {
			if end != start {
				t.Fatalf("estimate %d -> %d at 5%% loss", start, end)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newEstimatorRig(3_000_000)
			start := r.e.GetTargetBitrate()
			for range tt.rounds {
				r.round(20, tt.linkGap, tt.lossEvery)
			}
			tt.check(t, start, r.e.GetTargetBitrate())
			if got := r.e.GetTargetBitrate(); got < 50_000 || got > 10_000_000 {
				t.Fatalf("estimate %d outside bounds", got)
			}
		})
	}
}

// TestTWCCEstimatorRecoversAfterLoss puts a viewer through a loss
// episode that drives its estimate to the floor, then gives it a clean
// link on which it sends only the lowest layer (application-limited),
// and checks the estimate climbs back to where the top layer fits within
// 5 s of simulated clean feedback. Feedback comes every 100 ms, as
// pion's and Chromium's TWCC senders send it.
func TestTWCCEstimatorRecoversAfterLoss(t *testing.T) {
	const (
		topLayer = 1_200_000 // bps, Marquee's 720p layer
		lowLayer = 160_000   // bps, its 180p layer
	)
	// What DownTrack needs to switch up to the top layer.
	needed := int(topLayer*upSwitchHeadroom) + audioReserve
	r := newEstimatorRig(3_000_000)
	// Top layer: 20 × 1,000-byte packets per 100 ms is 1.6 Mbit/s.
	for range 30 {
		r.round(20, time.Millisecond, 0)
	}
	if got := r.e.GetTargetBitrate(); got < needed {
		t.Fatalf("estimate %d before the loss, want ≥ %d", got, needed)
	}
	// Three seconds at a third lost.
	for range 30 {
		r.round(20, time.Millisecond, 3)
	}
	if got := r.e.GetTargetBitrate(); got > lowLayer {
		t.Fatalf("estimate %d after the loss episode, want the floor", got)
	}
	// Clean link; the viewer is on the lowest layer: 2 packets per 100 ms.
	r.sendGap = 50 * time.Millisecond
	for i := range 50 {
		r.round(2, time.Millisecond, 0)
		if r.e.GetTargetBitrate() >= needed {
			t.Logf("top layer fits again after %d ms of clean feedback", (i+1)*100)
			return
		}
	}
	t.Fatalf("estimate %d after 5 s of clean feedback, want ≥ %d for the top layer", r.e.GetTargetBitrate(), needed)
}

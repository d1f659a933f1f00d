package forward

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// estimatorRig drives a twccEstimator with a fake clock: packets go out
// through its RTP writer and come back as transport-cc feedback.
type estimatorRig struct {
	e    *twccEstimator
	w    interceptor.RTPWriter
	seq  uint16
	now  time.Time
	ref  uint32
	sent int
}

func newEstimatorRig(initial int) *estimatorRig {
	r := &estimatorRig{now: time.Unix(100, 0)}
	r.e = newTWCCEstimator(CongestionParams{InitialBitrate: initial, MinBitrate: 50_000, MaxBitrate: 10_000_000})
	r.e.now = func() time.Time { return r.now }
	r.w = r.e.BindLocalStream(&interceptor.StreamInfo{RTPHeaderExtensions: []interceptor.RTPHeaderExtension{
		{URI: transportCCURI, ID: 5}}}, interceptor.RTPWriterFunc(
		func(*rtp.Header, []byte, interceptor.Attributes) (int, error) { return 0, nil }))
	return r
}

// round sends n 1,000-byte packets over 100 ms and feeds back their
// arrivals, spread by arrivalGap, with every lossEvery-th one lost.
func (r *estimatorRig) round(n int, arrivalGap time.Duration, lossEvery int) {
	base := r.seq
	var symbols []uint16
	var deltas []*rtcp.RecvDelta
	for i := range n {
		h := &rtp.Header{Version: 2}
		_ = h.SetExtension(5, []byte{byte(r.seq >> 8), byte(r.seq)})
		_, _ = r.w.Write(h, make([]byte, 1000), nil)
		r.seq++
		r.now = r.now.Add(100 * time.Millisecond / time.Duration(n))
		if lossEvery > 0 && i%lossEvery == 0 {
			symbols = append(symbols, rtcp.TypeTCCPacketNotReceived)
			continue
		}
		symbols = append(symbols, rtcp.TypeTCCPacketReceivedSmallDelta)
		deltas = append(deltas, &rtcp.RecvDelta{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: int64(arrivalGap / time.Microsecond)})
	}
	r.e.onFeedback(&rtcp.TransportLayerCC{BaseSequenceNumber: base, PacketStatusCount: uint16(n), ReferenceTime: r.ref,
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.StatusVectorChunk{SymbolSize: rtcp.TypeTCCSymbolSizeTwoBit, SymbolList: symbols}},
		RecvDeltas:   deltas})
	r.ref += 2 // 128 ms later
}

func TestTWCCEstimator(t *testing.T) {
	tests := []struct {
		name       string
		rounds     int
		arrivalGap time.Duration // per packet, 20 packets per 100 ms sent
		lossEvery  int
		check      func(t *testing.T, start, end int)
	}{
		{"clean path grows", 20, 5 * time.Millisecond, 0, func(t *testing.T, start, end int) {
			if end <= start {
				t.Fatalf("estimate %d -> %d, want growth", start, end)
			}
		}},
		{"heavy loss shrinks", 10, 5 * time.Millisecond, 3, func(t *testing.T, start, end int) {
			if end > start/3 {
				t.Fatalf("estimate %d -> %d under 33%% loss", start, end)
			}
		}},
		{"queue growth backs off to the receive rate", 20, 8 * time.Millisecond, 0, func(t *testing.T, start, end int) {
			// 20 KB arrive over 160 ms: about 1 Mbit/s, backed off to 85 %.
			if end > 1_100_000 {
				t.Fatalf("estimate %d -> %d with a growing queue", start, end)
			}
		}},
		{"light loss holds", 20, 5 * time.Millisecond, 20, func(t *testing.T, start, end int) {
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
				r.round(20, tt.arrivalGap, tt.lossEvery)
			}
			tt.check(t, start, r.e.GetTargetBitrate())
			if got := r.e.GetTargetBitrate(); got < 50_000 || got > 10_000_000 {
				t.Fatalf("estimate %d outside bounds", got)
			}
		})
	}
}

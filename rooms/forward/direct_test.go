package forward

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// fakeDirect is a DirectPath that records what the DownTrack writes.
type fakeDirect struct {
	ready    atomic.Bool
	mu       sync.Mutex
	writes   []rtp.Header
	twcc     []uint16 // the transport-wide sequence number of each write
	handlers map[uint32]func(rtcp.Packet)
	detached int
	twccID   uint8
}

func (f *fakeDirect) Ready() bool { return f.ready.Load() }

func (f *fakeDirect) WriteRTP(h *rtp.Header, _ []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, *h)
	if ext := h.GetExtension(f.twccID); len(ext) == 2 {
		f.twcc = append(f.twcc, uint16(ext[0])<<8|uint16(ext[1]))
	}
	return nil
}

func (f *fakeDirect) Attach(ssrc uint32, handle func(rtcp.Packet)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[ssrc] = handle
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.handlers, ssrc)
		f.detached++
	}
}

func (f *fakeDirect) snapshot() (writes []rtp.Header, twcc []uint16, handlers int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rtp.Header(nil), f.writes...), append([]uint16(nil), f.twcc...), len(f.handlers)
}

// TestDirectPathTakesOverWhenReady: a DownTrack sends through pion until
// its DirectPath is ready, then only through the path, numbering each
// packet for transport-wide feedback; a NACK that arrives through the path's handler is answered on the
// path, and Close detaches the handler.
func TestDirectPathTakesOverWhenReady(t *testing.T) {
	r := newRig(t)
	f := &fakeDirect{handlers: map[uint32]func(rtcp.Packet){}}
	s := r.subscribe(t, "direct", nil, func(p *DownTrackParams) { p.Direct = f })
	waitFor(t, 20*time.Second, "packets through pion first", func() bool { return len(s.packets()) > 20 })
	b := s.dt.bound.Load()
	if b == nil || b.twccID == 0 {
		t.Fatal("no transport-wide sequence number extension negotiated")
	}
	f.mu.Lock()
	f.twccID = b.twccID
	f.mu.Unlock()
	if _, _, n := f.snapshot(); n != 1 {
		t.Fatalf("%d RTCP handlers attached, want 1", n)
	}
	f.ready.Store(true)
	waitFor(t, 10*time.Second, "writes on the direct path", func() bool { w, _, _ := f.snapshot(); return len(w) > 50 })
	viaPion := len(s.packets())
	time.Sleep(200 * time.Millisecond)
	if extra := len(s.packets()) - viaPion; extra > 5 { // a few may have been in flight
		t.Errorf("%d packets still reached the viewer through pion after the path was ready", extra)
	}
	writes, twcc, _ := f.snapshot()
	if len(twcc) != len(writes) {
		t.Fatalf("%d of %d direct writes carry a transport-wide sequence number", len(twcc), len(writes))
	}
	for i := 1; i < len(twcc); i++ {
		if twcc[i] != twcc[i-1]+1 {
			t.Fatalf("transport-wide sequence numbers jump from %d to %d", twcc[i-1], twcc[i])
		}
	}
	for i := 1; i < len(writes); i++ {
		if writes[i].SSRC != b.ssrc || writes[i].SequenceNumber != writes[i-1].SequenceNumber+1 {
			t.Fatalf("direct write %d: ssrc %d seq %d after %d", i, writes[i].SSRC, writes[i].SequenceNumber, writes[i-1].SequenceNumber)
		}
	}

	// A NACK through the path's handler is answered on the path.
	lost := writes[len(writes)-10].SequenceNumber
	f.mu.Lock()
	handle := f.handlers[b.ssrc]
	f.mu.Unlock()
	handle(&rtcp.TransportLayerNack{MediaSSRC: b.ssrc, Nacks: []rtcp.NackPair{{PacketID: lost}}})
	waitFor(t, 5*time.Second, "the retransmission", func() bool {
		w, _, _ := f.snapshot()
		n := 0
		for _, h := range w {
			if h.SequenceNumber == lost {
				n++
			}
		}
		return n == 2
	})

	_ = s.dt.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.handlers) != 0 || f.detached == 0 {
		t.Errorf("after Close: %d handlers attached, %d detaches", len(f.handlers), f.detached)
	}
}

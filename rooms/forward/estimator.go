package forward

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// transportCCURI is the transport-wide congestion control header extension
// (draft-holmer-rmcat-transport-wide-cc-extensions-01).
const transportCCURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// Tuning of the transport-wide estimator: a lean loss- and delay-based
// controller in the spirit of GCC (draft-ietf-rmcat-gcc-02 §5-6), without
// its per-packet allocations and per-connection goroutines.
const (
	sentHistory     = 1024                   // packets remembered for feedback (>3 s at 2 Mbit/s)
	lossHigh        = 0.10                   // decrease above (GCC §6)
	lossLow         = 0.02                   // increase below (GCC §6)
	overuseDelay    = 40 * time.Millisecond  // queueing delay over the path's base delay
	overuseReports  = 2                      // consecutive overusing feedbacks to back off
	baseDelayWindow = 10 * time.Second       // how long the base (minimum) delay is kept
	increasePerFB   = 1.03                   // multiplicative increase per feedback
	probePerFB      = 1.01                   // slower increase when application-limited
	overuseBackoff  = 0.85                   // of the receive rate (GCC §5.5)
	rateWindow      = 500 * time.Millisecond // receive-rate averaging
	appLimitedRatio = 2.0                    // above this × receive rate, increase slowly
	// After a loss episode the estimate returns to the one it had before
	// the episode (less a margin), once feedback has been clean for
	// recoverAfter, growing recoverGrowth-fold per second. A viewer that
	// fell to the lowest layer thus sends the top layer again some 2-3 s
	// after its link cleared, where GCC would probe (draft-ietf-rmcat-gcc-02
	// §5.5's increase after a decrease, and padding probes, which an SFU
	// forwarding a lower layer cannot send).
	recoverAfter  = 500 * time.Millisecond
	recoverGrowth = 4.0
	recoverMargin = 0.85 // of the estimate before the episode: a congested link does not get its loss back at once
)

// sentPacket is what the estimator remembers of a sent packet.
type sentPacket struct {
	at   int64 // unix µs; 0: empty
	seq  uint16
	size uint16
}

// twccEstimator is one PeerConnection's send-side bandwidth estimate from
// transport-wide feedback (RTCP transport-cc, the same draft, §3.1).
type twccEstimator struct {
	interceptor.NoOp
	seq        atomic.Uint32 // next transport-wide sequence number (low 16 bits)
	mu         sync.Mutex
	sent       [sentHistory]sentPacket
	estimate   float64
	min, max   float64
	rateBytes  int
	rateStart  int64 // arrival time (µs, feedback clock) the window began
	rateLast   int64
	recvRate   float64
	refBaseSet bool
	overuses   int
	// Recovery from a loss episode: the estimate to return to (0: none),
	// when feedback turned clean, and when the last clean one came (µs,
	// sender clock).
	ceiling               float64
	cleanSince, lastClean int64
	// Base delay buckets (µs, sender clock minus receiver clock).
	prevMin, curMin, bucketStart int64
	now                          func() time.Time
}

func newTWCCEstimator(p CongestionParams) *twccEstimator {
	return &twccEstimator{estimate: float64(p.InitialBitrate), min: float64(p.MinBitrate),
		max: float64(p.MaxBitrate), now: time.Now}
}

// GetTargetBitrate is the current estimate in bits per second.
func (e *twccEstimator) GetTargetBitrate() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return int(e.estimate)
}

// BindLocalStream numbers each sent packet with the connection's next
// transport-wide sequence number (the header extension of
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §2) and records when
// it left and how big it was, for the feedback to be matched against.
// Numbering here rather than in pion's header-extension interceptor saves
// a layer and an allocation per packet.
func (e *twccEstimator) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, x := range info.RTPHeaderExtensions {
		if x.URI == transportCCURI {
			id = uint8(x.ID)
		}
	}
	if id == 0 {
		return w
	}
	// One stream's writes never overlap (one DownTrack writer turn at a
	// time, and the header is marshalled before Write returns), so the
	// extension's two bytes can live here.
	var ext [2]byte
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if err := e.stamp(h, &ext, id, len(payload)); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}

// stamp gives h the connection's next transport-wide sequence number, in
// extension id backed by ext (which must outlive h's marshalling), and
// records when the packet left and its size.
func (e *twccEstimator) stamp(h *rtp.Header, ext *[2]byte, id uint8, payloadLen int) error {
	seq := uint16(e.seq.Add(1) - 1)
	ext[0], ext[1] = byte(seq>>8), byte(seq)
	if err := h.SetExtension(id, ext[:]); err != nil {
		return fmt.Errorf("forward: transport-cc extension: %w", err)
	}
	e.mu.Lock()
	e.sent[seq%sentHistory] = sentPacket{seq: seq, at: e.now().UnixMicro(), size: uint16(h.MarshalSize() + payloadLen)}
	e.mu.Unlock()
	return nil
}

// OnTransportFeedback updates the estimate from transport-wide feedback
// read outside pion's interceptors (a DirectPath's RTCP).
func (e *twccEstimator) OnTransportFeedback(fb *rtcp.TransportLayerCC) { e.onFeedback(fb) }

// BindRTCPReader feeds transport-cc feedback to the estimate as RTCP is
// read (DownTrack always reads it).
func (e *twccEstimator) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := r.Read(b, a)
		if err != nil {
			return n, attr, err
		}
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		pkts, perr := attr.GetRTCPPackets(b[:n])
		if perr != nil {
			return n, attr, nil // not ours to reject
		}
		for _, p := range pkts {
			if fb, ok := p.(*rtcp.TransportLayerCC); ok {
				e.onFeedback(fb)
			}
		}
		return n, attr, nil
	})
}

// onFeedback updates the estimate from one transport-cc report.
func (e *twccEstimator) onFeedback(fb *rtcp.TransportLayerCC) {
	e.mu.Lock()
	defer e.mu.Unlock()
	arrival := int64(fb.ReferenceTime) * 64000 // µs, the report's clock
	seq := fb.BaseSequenceNumber
	deltas := fb.RecvDeltas
	var lost, got, bytes int
	var firstArr, lastArr int64
	minDelay := int64(math.MaxInt64) // one-way delay plus an unknown offset, µs
	status := func(sym uint16) {
		defer func() { seq++ }()
		s := e.sent[seq%sentHistory]
		mine := s.at != 0 && s.seq == seq
		switch {
		case sym == rtcp.TypeTCCPacketNotReceived:
			if mine {
				lost++
			}
			return
		case sym == rtcp.TypeTCCPacketReceivedWithoutDelta:
			if mine {
				got++
			}
			return
		case len(deltas) == 0:
			return
		}
		arrival += deltas[0].Delta
		deltas = deltas[1:]
		if !mine {
			return
		}
		got++
		bytes += int(s.size)
		if got == 1 {
			firstArr = arrival
		}
		lastArr = arrival
		minDelay = min(minDelay, arrival-s.at)
	}
	for _, c := range fb.PacketChunks {
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for range c.RunLength {
				status(c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, sym := range c.SymbolList {
				status(sym)
			}
		}
	}
	e.updateRate(bytes, firstArr, lastArr)
	var queue time.Duration
	if minDelay != math.MaxInt64 {
		queue = e.queueDelay(minDelay)
	}
	e.update(lost, got, queue)
}

// queueDelay returns how far this report's smallest one-way delay sits
// above the path's base delay: the minimum over about baseDelayWindow,
// kept in two buckets. The minimum per report ignores jitter spikes.
func (e *twccEstimator) queueDelay(d int64) time.Duration {
	now := e.now().UnixMicro()
	if e.bucketStart == 0 || now-e.bucketStart > int64(baseDelayWindow/time.Microsecond)/2 {
		e.prevMin, e.curMin, e.bucketStart = e.curMin, d, now
		if e.prevMin == 0 {
			e.prevMin = d
		}
	}
	e.curMin = min(e.curMin, d)
	return time.Duration(d-min(e.prevMin, e.curMin)) * time.Microsecond
}

// updateRate keeps the receive rate over about rateWindow of arrivals.
func (e *twccEstimator) updateRate(bytes int, first, last int64) {
	if bytes == 0 {
		return
	}
	if !e.refBaseSet || last < e.rateLast || first-e.rateLast > int64(rateWindow/time.Microsecond) {
		e.rateStart, e.rateBytes, e.refBaseSet = first, 0, true
	}
	e.rateBytes += bytes
	e.rateLast = last
	if span := e.rateLast - e.rateStart; span >= int64(rateWindow/time.Microsecond) {
		e.recvRate = float64(e.rateBytes*8) / (float64(span) / 1e6)
		e.rateStart, e.rateBytes = last, 0
	}
}

// update applies GCC's loss rules (§6) and a delay-overuse backoff (§5).
func (e *twccEstimator) update(lost, got int, queue time.Duration) {
	if lost+got == 0 {
		return
	}
	loss := float64(lost) / float64(lost+got)
	if queue > overuseDelay {
		e.overuses++
	} else {
		e.overuses = 0
	}
	now := e.now().UnixMicro()
	if loss >= lossLow {
		e.cleanSince = 0
	}
	switch {
	case loss > lossHigh:
		if e.ceiling == 0 {
			e.ceiling = e.estimate * recoverMargin
		}
		e.estimate *= 1 - 0.5*loss
	case e.overuses >= overuseReports && e.recvRate > 0:
		e.ceiling = 0 // a queue, not loss: the backoff below is the new start
		e.estimate = min(e.estimate, overuseBackoff*e.recvRate)
	case loss < lossLow && e.recovering(now):
		return
	case loss < lossLow && (e.recvRate == 0 || e.estimate < appLimitedRatio*e.recvRate):
		e.estimate *= increasePerFB
	case loss < lossLow:
		// Sending less than the estimate (a lower layer): creep up so a
		// higher layer is tried again after some seconds, as GCC would
		// with probing.
		e.estimate *= probePerFB
	}
	e.estimate = min(max(e.estimate, e.min), e.max)
}

// recovering grows the estimate back towards the ceiling a loss episode
// left, on a clean report at now (µs). It reports whether it did, which
// leaves the ordinary increase out of this report.
func (e *twccEstimator) recovering(now int64) bool {
	if e.ceiling == 0 {
		return false
	}
	if e.estimate >= e.ceiling {
		e.ceiling = 0 // recovered: the ordinary rules again
		return false
	}
	if e.cleanSince == 0 {
		e.cleanSince, e.lastClean = now, now
		return false
	}
	dt := now - e.lastClean
	e.lastClean = now
	if now-e.cleanSince < int64(recoverAfter/time.Microsecond) {
		return false
	}
	e.estimate = min(e.estimate*math.Pow(recoverGrowth, float64(dt)/1e6), e.ceiling, e.max)
	return true
}

// estimatorFactory makes one twccEstimator per PeerConnection and hands
// it to CongestionControl.Estimator.
type estimatorFactory struct {
	c *CongestionControl
	p CongestionParams
}

// NewInterceptor is called by pion once per PeerConnection with its ID.
func (f estimatorFactory) NewInterceptor(id string) (interceptor.Interceptor, error) {
	e := newTWCCEstimator(f.p)
	f.c.mu.Lock()
	f.c.pending[id] = e
	f.c.mu.Unlock()
	return e, nil
}

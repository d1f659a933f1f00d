package forward

import (
	"fmt"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/webrtc/v4"
)

// CongestionParams tunes the send-side bandwidth estimator (GCC,
// draft-ietf-rmcat-gcc-02) run for each subscriber PeerConnection.
type CongestionParams struct {
	// InitialBitrate is the estimate before feedback arrives (bps);
	// 0 means 2.5 Mbit/s, enough for a 720p layer.
	InitialBitrate int
	// MinBitrate and MaxBitrate bound the estimate; 0 means 100 kbit/s and
	// 20 Mbit/s.
	MinBitrate, MaxBitrate int
	// DisableEstimator skips send-side estimation (TWCC numbering and
	// feedback); layers then follow REMB or receiver-report loss.
	DisableEstimator bool
	// UseGCC runs pion/interceptor's full GCC instead of this package's
	// lean transport-wide estimator. GCC costs about 10 µs of CPU per
	// forwarded packet here (allocations and goroutines per connection).
	UseGCC bool
}

// CongestionControl hands each PeerConnection's bandwidth estimator to
// the DownTracks sending on it.
type CongestionControl struct {
	p       CongestionParams
	mu      sync.Mutex
	pending map[string]BandwidthEstimator
}

// RegisterInterceptors sets up m and ir for an SFU PeerConnection that
// both receives from publishers and sends to subscribers. Use it instead of
// webrtc.RegisterDefaultInterceptors (after registering codecs):
//   - receive side: NACK generator, RTCP receiver reports, TWCC feedback,
//     simulcast RID header extensions;
//   - send side: TWCC sequence numbers and a bandwidth estimator per
//     PeerConnection (see CongestionParams).
//
// It deliberately omits pion's NACK responder and sender-report
// interceptor: DownTrack answers NACKs from its own cache and sends its own
// SRs with the publisher's NTP/RTP mapping.
func RegisterInterceptors(m *webrtc.MediaEngine, ir *interceptor.Registry, p CongestionParams) (*CongestionControl, error) {
	if p.InitialBitrate <= 0 {
		p.InitialBitrate = 2_500_000
	}
	if p.MinBitrate <= 0 {
		p.MinBitrate = 100_000
	}
	if p.MaxBitrate <= 0 {
		p.MaxBitrate = 20_000_000
	}
	c := &CongestionControl{p: p, pending: map[string]BandwidthEstimator{}}
	if !p.DisableEstimator {
		if err := c.registerEstimator(m, ir); err != nil {
			return nil, err
		}
	}
	if err := registerReceiveSide(m, ir); err != nil {
		return nil, err
	}
	return c, nil
}

// RegisterSendOnly fills ir with the send side of RegisterInterceptors
// alone, for PeerConnections that never receive media: a classic
// subscriber connection, or the single connection of a participant who
// may not publish. It leaves out the NACK generator, receiver reports and
// TWCC feedback, whose per-connection goroutines and RTCP parsing cost an
// SFU with many viewers CPU for nothing. Use it with the MediaEngine given
// to RegisterInterceptors (which already carries the header extensions and
// feedback types); Estimator then works for either registry's connections.
func (c *CongestionControl) RegisterSendOnly(ir *interceptor.Registry) error {
	if c.p.DisableEstimator {
		return nil
	}
	return c.addSendSide(ir)
}

// ConfigureSendEngine registers on m, a MediaEngine kept for
// connections that only send (built with RegisterSendOnly's registry),
// what RegisterInterceptors registers on its own: the transport-wide
// sequence number extension, the video feedback subscribers send (NACK,
// PLI, FIR) and the mid/RID extensions. Codecs are the caller's.
func (c *CongestionControl) ConfigureSendEngine(m *webrtc.MediaEngine) error {
	if !c.p.DisableEstimator {
		for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
			if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: transportCCURI}, kind); err != nil {
				return fmt.Errorf("forward: twcc header extension: %w", err)
			}
		}
	}
	registerVideoFeedback(m)
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return fmt.Errorf("forward: simulcast extensions: %w", err)
	}
	return nil
}

// registerVideoFeedback registers the RTCP feedback a video receiver
// sends: NACK (RFC 4585 §6.2.1), PLI (§6.3.1) and FIR (RFC 5104 §4.3.1).
func registerVideoFeedback(m *webrtc.MediaEngine) {
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "ccm", Parameter: "fir"}, webrtc.RTPCodecTypeVideo)
}

// registerEstimator adds TWCC numbering and an estimator per
// PeerConnection.
func (c *CongestionControl) registerEstimator(m *webrtc.MediaEngine, ir *interceptor.Registry) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: transportCCURI}, kind); err != nil {
			return fmt.Errorf("forward: twcc header extension: %w", err)
		}
	}
	return c.addSendSide(ir)
}

// addSendSide adds the per-connection send-side interceptors to ir: this
// package's estimator, which numbers packets itself, or pion's GCC after
// pion's TWCC numbering.
func (c *CongestionControl) addSendSide(ir *interceptor.Registry) error {
	if !c.p.UseGCC {
		ir.Add(estimatorFactory{c: c, p: c.p})
		return nil
	}
	if err := c.registerGCC(ir, c.p); err != nil {
		return err
	}
	hdr, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		return fmt.Errorf("forward: twcc header extension: %w", err)
	}
	ir.Add(hdr)
	return nil
}

// registerGCC adds pion's GCC (with no pacer: the publisher paces).
func (c *CongestionControl) registerGCC(ir *interceptor.Registry, p CongestionParams) error {
	factory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(p.InitialBitrate),
			gcc.SendSideBWEMinBitrate(p.MinBitrate),
			gcc.SendSideBWEMaxBitrate(p.MaxBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return fmt.Errorf("forward: congestion controller: %w", err)
	}
	factory.OnNewPeerConnection(func(id string, e cc.BandwidthEstimator) {
		c.mu.Lock()
		c.pending[id] = e
		c.mu.Unlock()
	})
	ir.Add(factory)
	return nil
}

// registerReceiveSide adds what receiving from publishers needs.
func registerReceiveSide(m *webrtc.MediaEngine, ir *interceptor.Registry) error {
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return fmt.Errorf("forward: nack generator: %w", err)
	}
	registerVideoFeedback(m)
	ir.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return fmt.Errorf("forward: receiver reports: %w", err)
	}
	ir.Add(rr)
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return fmt.Errorf("forward: twcc feedback: %w", err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return fmt.Errorf("forward: simulcast extensions: %w", err)
	}
	return nil
}

// Estimator returns (and forgets) the bandwidth estimator of pc, which must
// have been built from an API using the registry passed to
// RegisterInterceptors. Call it once per PeerConnection, right after
// creating it, even if unused, so the estimator is not kept twice.
// It returns nil if pc has none.
func (c *CongestionControl) Estimator(pc *webrtc.PeerConnection) BandwidthEstimator {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pending[pc.ID()]
	if !ok {
		return nil
	}
	delete(c.pending, pc.ID())
	return e
}

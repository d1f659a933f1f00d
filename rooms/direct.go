package rooms

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/marquee-party/marquee/internal/dtlskeys"
	"github.com/marquee-party/marquee/rooms/forward"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// The direct path (rtc.direct_srtp) moves a send-only connection's media
// past pion's per-packet layers. Pion still negotiates the connection
// (SDP, ICE, DTLS) and owns everything but the RTP it sends and the RTCP
// it receives: dtlskeys learns the SRTP keys from its DTLS handshake, a
// directPeer encrypts the downtracks' packets and writes them on the
// muxed socket to the selected pair's remote address, and directMux takes
// the subscriber's SRTCP off the socket before pion's UDP mux sees it.
//
// Each SRTCP packet pion would have read passes four goroutine hand-offs
// (mux worker, ICE candidate, DTLS/SRTP demux, SRTCP session) before a
// downtrack's reader; on the direct path it is decrypted and dispatched on
// the socket's reading goroutine. STUN and DTLS still go to pion, so ICE
// consent (RFC 7675) and the data channel work as before.

// errDirectNotReady is WriteRTP's answer before the keys or the remote
// address are known; DownTrack asks Ready first, so it is rare.
var errDirectNotReady = errors.New("rooms: direct SRTP path not ready")

// isRTCP tells SRTCP apart from SRTP, STUN and DTLS on the muxed socket:
// RFC 7983 §7 puts RTP and RTCP in first bytes 128–191, and RFC 5761 §4
// puts RTCP packet types in 192–223 of the second byte.
func isRTCP(b []byte) bool {
	return len(b) >= 8 && b[0] >= 128 && b[0] <= 191 && b[1] >= 192 && b[1] <= 223
}

// directMux routes inbound SRTCP from direct-path subscribers by source
// address. Its intercept is udpbatch.Options.Intercept.
type directMux struct {
	mu    sync.RWMutex
	peers map[netip.AddrPort]*directPeer

	sent, received, rejected prometheus.Counter
}

func newDirectMux() *directMux {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "marquee", Subsystem: "sfu", Name: name, Help: help}
	}
	return &directMux{
		peers: map[netip.AddrPort]*directPeer{},
		sent: prometheus.NewCounter(opts("direct_rtp_sent_total",
			"RTP packets sent to subscribers on the direct SRTP path, past pion's per-packet layers.")),
		received: prometheus.NewCounter(opts("direct_rtcp_received_total",
			"SRTCP packets from subscribers read on the direct path, past pion's goroutines.")),
		rejected: prometheus.NewCounter(opts("direct_rtcp_rejected_total",
			"SRTCP packets on the direct path that failed to decrypt or parse (dropped).")),
	}
}

// register exports the mux's counters.
func (m *directMux) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.sent, m.received, m.rejected} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register direct path metrics: %w", err)
		}
	}
	return nil
}

// intercept consumes SRTCP from a registered subscriber.
func (m *directMux) intercept(b []byte, from netip.AddrPort) bool {
	if !isRTCP(b) {
		return false
	}
	m.mu.RLock()
	p := m.peers[unmapped(from)]
	m.mu.RUnlock()
	if p == nil {
		return false
	}
	if p.receiveRTCP(b) {
		m.received.Inc()
	} else {
		m.rejected.Inc()
	}
	return true
}

// unmapped is a's key in the mux: a dual-stack socket reports IPv4 peers
// as IPv4-mapped IPv6, ICE candidates name them as IPv4.
func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// route points the address at p, replacing old (a previous address of p).
func (m *directMux) route(p *directPeer, old, addr netip.AddrPort) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old.IsValid() && m.peers[old] == p {
		delete(m.peers, old)
	}
	if addr.IsValid() {
		m.peers[addr] = p
	}
}

// transportFeedback is the estimator's side of the direct path: the lean
// estimator takes the transport-wide feedback read here.
type transportFeedback interface {
	OnTransportFeedback(fb *rtcp.TransportLayerCC)
}

// directPeer is one send-only connection's direct path
// (forward.DirectPath), and its send batching (forward.Batcher).
type directPeer struct {
	*peerBatch
	mux      *directMux
	capture  *dtlskeys.Capture
	feedback transportFeedback // nil: transport-wide feedback is dropped
	log      *slog.Logger

	ready  atomic.Bool
	routed netip.AddrPort // the address mux routes to p; guarded by rmu

	wmu     sync.Mutex    // sendCtx and hdr
	sendCtx *srtp.Context // encrypts what the SFU sends (the local DTLS-SRTP key)
	hdr     rtp.Header    // EncryptRTP parses the header again; reusing this one spares two allocations a packet
	bufs    sync.Pool     // *[]byte: a packet's ciphertext until its write returns

	rmu     sync.Mutex    // recvCtx, routed, closed
	recvCtx *srtp.Context // decrypts what the viewer sends (the remote key)
	closed  bool

	hmu      sync.Mutex                                   // serialises Attach and detach
	handlers atomic.Pointer[map[uint32]func(rtcp.Packet)] // copied on write: read without a lock per packet
}

// newDirectPeer builds the direct path of pc, which was made from an API
// carrying capture. It becomes ready once the DTLS handshake is done.
func newDirectPeer(pc *webrtc.PeerConnection, batch *peerBatch, mux *directMux, capture *dtlskeys.Capture,
	est forward.BandwidthEstimator, log *slog.Logger) *directPeer {
	p := &directPeer{peerBatch: batch, mux: mux, capture: capture, log: log}
	p.init()
	p.feedback, _ = est.(transportFeedback)
	pc.SCTP().Transport().OnStateChange(func(s webrtc.DTLSTransportState) {
		if s == webrtc.DTLSTransportStateConnected {
			p.start()
		}
	})
	batch.followSelected(pc, p.reroute)
	return p
}

// init readies the buffer pool and the (empty) handler table.
func (p *directPeer) init() {
	p.bufs.New = func() any { b := make([]byte, 1500+srtpOverhead); return &b }
	p.handlers.Store(&map[uint32]func(rtcp.Packet){})
}

// start builds the SRTP contexts from the handshake's keys. Without them
// (this side was the DTLS client and the profile is unknown, say) the
// connection simply stays on pion's path.
func (p *directPeer) start() {
	keys, err := p.capture.Keys()
	if err != nil {
		p.log.Info("direct SRTP path unavailable, sending through pion", "err", err)
		return
	}
	local, remote, err := keys.Contexts()
	if err != nil {
		p.log.Warn("direct SRTP path: contexts", "err", err)
		return
	}
	p.wmu.Lock()
	p.sendCtx = local
	p.wmu.Unlock()
	p.rmu.Lock()
	p.recvCtx = remote
	p.rmu.Unlock()
	p.ready.Store(true)
	p.reroute()
	p.log.Debug("direct SRTP path ready", "profile", keys.Profile)
}

// reroute registers the current remote address with the mux once ready.
func (p *directPeer) reroute() {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	var addr netip.AddrPort
	if a := p.peerBatch.remote.Load(); a != nil && p.ready.Load() && !p.closed {
		addr = unmapped(*a)
	}
	if addr != p.routed {
		p.mux.route(p, p.routed, addr)
		p.routed = addr
	}
}

// close stops routing RTCP to p; later writes fail.
func (p *directPeer) close() {
	p.rmu.Lock()
	p.closed = true
	p.rmu.Unlock()
	p.ready.Store(false)
	p.reroute()
}

// Ready reports whether the keys and a UDP remote address are known.
func (p *directPeer) Ready() bool { return p.ready.Load() && p.peerBatch.remote.Load() != nil }

// WriteRTP marshals, encrypts (RFC 3711 §3.3) and sends one packet to the
// selected pair's remote address; inside a Hold it joins the batch.
func (p *directPeer) WriteRTP(h *rtp.Header, payload []byte) error {
	a := p.peerBatch.remote.Load()
	if a == nil || !p.ready.Load() {
		return errDirectNotReady
	}
	n := h.MarshalSize() + len(payload)
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	if cap(*bp) < n+srtpOverhead {
		*bp = make([]byte, n+srtpOverhead)
	}
	buf := (*bp)[:n]
	hn, err := h.MarshalTo(buf)
	if err != nil {
		return fmt.Errorf("rooms: marshal rtp: %w", err)
	}
	copy(buf[hn:], payload)
	p.wmu.Lock()
	out, err := p.sendCtx.EncryptRTP(buf[:0], buf, &p.hdr)
	p.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("rooms: srtp encrypt: %w", err)
	}
	if _, err = p.conn.WriteToAddrPort(out, *a); err != nil {
		return err
	}
	p.mux.sent.Inc()
	return nil
}

// srtpOverhead is room for the authentication tag (16 bytes for GCM, 10
// for HMAC-SHA1-80; RFC 7714 §7.2, RFC 3711 §4.2).
const srtpOverhead = 32

// Attach routes RTCP about ssrc to handle (forward.DirectPath).
func (p *directPeer) Attach(ssrc uint32, handle func(rtcp.Packet)) func() {
	p.setHandler(ssrc, handle)
	return func() { p.setHandler(ssrc, nil) }
}

// setHandler installs (or with nil removes) the handler of ssrc in a new
// copy of the table.
func (p *directPeer) setHandler(ssrc uint32, handle func(rtcp.Packet)) {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	next := maps.Clone(*p.handlers.Load())
	if handle == nil {
		delete(next, ssrc)
	} else {
		next[ssrc] = handle
	}
	p.handlers.Store(&next)
}

// receiveRTCP decrypts one SRTCP packet (RFC 3711 §3.4) and hands each
// RTCP packet of the compound to the handlers of the SSRCs it is about,
// transport-wide feedback to the estimator. It reports whether the packet
// was valid. Only the decryption holds a lock: handlers may do I/O (a PLI
// makes the publisher's connection write).
func (p *directPeer) receiveRTCP(b []byte) bool {
	p.rmu.Lock()
	var plain []byte
	err := errDirectNotReady
	if p.recvCtx != nil && !p.closed {
		plain, err = p.recvCtx.DecryptRTCP(nil, b, nil)
	}
	p.rmu.Unlock()
	if err != nil {
		return false
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		return false
	}
	handlers := *p.handlers.Load()
	for _, pkt := range pkts {
		if fb, ok := pkt.(*rtcp.TransportLayerCC); ok {
			if p.feedback != nil {
				p.feedback.OnTransportFeedback(fb)
			}
			continue
		}
		dispatch(handlers, pkt)
	}
	return true
}

// dispatch calls each handler the packet is about once.
func dispatch(handlers map[uint32]func(rtcp.Packet), pkt rtcp.Packet) {
	ssrcs := pkt.DestinationSSRC()
	for i, s := range ssrcs {
		h := handlers[s]
		if h == nil || slices.Contains(ssrcs[:i], s) {
			continue
		}
		h(pkt)
	}
}

// directAPI returns an API for one send-only connection whose DTLS
// handshake reports its keys to the returned capture. The API is per
// connection because the capture hooks live in its SettingEngine.
func (m *mediaAPI) directAPI() (*webrtc.API, *dtlskeys.Capture) {
	capture := dtlskeys.New()
	se := m.sendSE
	capture.Apply(&se)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m.me),
		webrtc.WithInterceptorRegistry(m.sendIR)), capture
}

var _ interface {
	forward.DirectPath
	forward.Batcher
} = (*directPeer)(nil)

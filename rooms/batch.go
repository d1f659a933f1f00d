package rooms

import (
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/marquee-party/marquee/internal/udpbatch"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// peerBatch lets the downtracks of one subscriber connection send each
// writer turn's packets as one batch on the muxed UDP socket: it holds the
// connection's current remote address (the selected ICE candidate pair's)
// on the socket for the turn. It is forward.Batcher.
type peerBatch struct {
	conn   *udpbatch.Conn
	remote atomic.Pointer[netip.AddrPort]
}

// followSelected keeps b's remote address at pc's selected candidate
// pair, calling then (when not nil) after each change.
func (b *peerBatch) followSelected(pc *webrtc.PeerConnection, then func()) {
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		b.follow(p)
		if then != nil {
			then()
		}
	})
}

// follow records the remote address of a newly selected pair. TCP pairs,
// and addresses that are not IPs, do not go through the muxed UDP socket:
// they are not batched.
func (b *peerBatch) follow(p *webrtc.ICECandidatePair) {
	if p == nil || p.Remote == nil || p.Remote.Protocol != webrtc.ICEProtocolUDP {
		b.remote.Store(nil)
		return
	}
	ip, err := netip.ParseAddr(p.Remote.Address)
	if err != nil {
		b.remote.Store(nil)
		return
	}
	a := netip.AddrPortFrom(ip, p.Remote.Port)
	b.remote.Store(&a)
}

// Hold starts a batch to the current remote address.
func (b *peerBatch) Hold() netip.AddrPort {
	a := b.remote.Load()
	if a == nil {
		return netip.AddrPort{}
	}
	b.conn.Hold(*a)
	return *a
}

// Release sends the batch Hold started. Send errors surface as missing
// packets, which the subscriber NACKs; they are not the writer's to act on.
func (b *peerBatch) Release(a netip.AddrPort) {
	if a.IsValid() {
		_ = b.conn.Release(a)
	}
}

// registerUDPMetrics exports the batching socket's counters, so the
// datagrams per send syscall can be watched.
func registerUDPMetrics(reg prometheus.Registerer, c *udpbatch.Conn) error {
	counter := func(name, help string, v func(udpbatch.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: "marquee", Subsystem: "sfu", Name: name, Help: help},
			func() float64 { return float64(v(c.Stats())) })
	}
	for _, m := range []prometheus.Collector{
		counter("udp_datagrams_sent_total", "Datagrams the muxed media socket handed to the kernel.",
			func(s udpbatch.Stats) uint64 { return s.Datagrams }),
		counter("udp_send_syscalls_total", "Send syscalls the muxed media socket made (one per datagram without batching).",
			func(s udpbatch.Stats) uint64 { return s.Syscalls }),
		counter("udp_gso_sends_total", "UDP GSO writes, each carrying several datagrams to one subscriber.",
			func(s udpbatch.Stats) uint64 { return s.GSOSends }),
		counter("udp_gso_fallbacks_total", "Batches resent one by one because the kernel refused GSO (for that subscriber a while, or for all if the kernel lacks it).",
			func(s udpbatch.Stats) uint64 { return s.GSOFallbacks }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "marquee", Subsystem: "sfu", Name: "udp_gso_paused_destinations",
			Help: "Subscriber addresses sent to without GSO for now, after a GSO error on their path."},
			func() float64 { return float64(c.Stats().GSOPausedDests) }),
	} {
		if err := reg.Register(m); err != nil {
			return fmt.Errorf("register udp metrics: %w", err)
		}
	}
	return nil
}

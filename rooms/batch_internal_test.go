package rooms

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/udpbatch"
	"github.com/pion/webrtc/v4"
)

// TestPeerBatchFollowsSelectedPair: a subscriber's batch holds the remote
// address of the selected UDP pair, forgets it for TCP or non-IP pairs, and
// what a turn writes to that address leaves only at Release.
func TestPeerBatchFollowsSelectedPair(t *testing.T) {
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn := udpbatch.New(sock, udpbatch.Options{})
	t.Cleanup(func() { _ = conn.Close() })
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()

	b := &peerBatch{conn: conn}
	if held := b.Hold(); held.IsValid() {
		t.Fatalf("held %v before any pair was selected", held)
	}
	pair := func(proto webrtc.ICEProtocol, addr string, port uint16) *webrtc.ICECandidatePair {
		return &webrtc.ICECandidatePair{Remote: &webrtc.ICECandidate{Protocol: proto, Address: addr, Port: port}}
	}
	b.follow(pair(webrtc.ICEProtocolUDP, to.Addr().String(), to.Port()))
	held := b.Hold()
	if held != to {
		t.Fatalf("held %v, want %v", held, to)
	}
	for range 3 {
		if _, err := conn.WriteToAddrPort(make([]byte, 1000), to); err != nil {
			t.Fatal(err)
		}
	}
	_ = peer.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := peer.ReadFromUDPAddrPort(make([]byte, 1500)); err == nil {
		t.Fatalf("a %d-byte datagram left before Release", n)
	}
	b.Release(held)
	buf := make([]byte, 1500)
	for i := range 3 {
		_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, _, err := peer.ReadFromUDPAddrPort(buf); err != nil || n != 1000 {
			t.Fatalf("datagram %d after Release: %d bytes, %v", i, n, err)
		}
	}

	for _, p := range []*webrtc.ICECandidatePair{
		pair(webrtc.ICEProtocolTCP, to.Addr().String(), to.Port()),
		pair(webrtc.ICEProtocolUDP, "host.local", 9),
		nil,
	} {
		b.follow(p)
		if held := b.Hold(); held != (netip.AddrPort{}) {
			t.Fatalf("pair %+v: held %v, want nothing", p, held)
		}
	}
}

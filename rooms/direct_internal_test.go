package rooms

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/udpbatch"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestIsRTCP(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"stun binding request", []byte{0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42}, false},
		{"dtls handshake", []byte{22, 0xfe, 0xfd, 0, 0, 0, 0, 0}, false},
		{"rtp vp8", []byte{0x80, 96, 0, 1, 0, 0, 0, 0}, false},
		{"rtp with marker", []byte{0x80, 0x80 | 96, 0, 1, 0, 0, 0, 0}, false},
		{"rtcp receiver report", []byte{0x81, 201, 0, 7, 0, 0, 0, 1}, true},
		{"rtcp transport feedback", []byte{0x8f, 205, 0, 5, 0, 0, 0, 1}, true},
		{"too short", []byte{0x81, 201, 0, 7}, false},
	} {
		if got := isRTCP(c.b); got != c.want {
			t.Errorf("%s: isRTCP = %v, want %v", c.name, got, c.want)
		}
	}
}

// feedbackRecorder stands in for the estimator.
type feedbackRecorder struct {
	mu  sync.Mutex
	fbs []*rtcp.TransportLayerCC
}

func (f *feedbackRecorder) OnTransportFeedback(fb *rtcp.TransportLayerCC) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fbs = append(f.fbs, fb)
}

// directPair returns a ready directPeer on a loopback socket and the
// subscriber's side: its socket and the contexts it encrypts and decrypts
// with (the peer's remote and local keys).
func directPair(t *testing.T) (p *directPeer, mux *directMux, sub *net.UDPConn, subEnc, subDec *srtp.Context) {
	t.Helper()
	mux = newDirectMux()
	sock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn := udpbatch.New(sock, udpbatch.Options{Intercept: mux.intercept})
	t.Cleanup(func() { _ = conn.Close() })
	sub, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	ctx := func(key byte) *srtp.Context {
		c, err := srtp.CreateContext(bytes.Repeat([]byte{key}, 16), bytes.Repeat([]byte{key}, 12), srtp.ProtectionProfileAeadAes128Gcm)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	p = &directPeer{peerBatch: &peerBatch{conn: conn}, mux: mux, log: slog.New(slog.DiscardHandler),
		sendCtx: ctx(1), recvCtx: ctx(2)}
	p.init()
	subAddr := sub.LocalAddr().(*net.UDPAddr).AddrPort()
	p.follow(&webrtc.ICECandidatePair{Remote: &webrtc.ICECandidate{
		Protocol: webrtc.ICEProtocolUDP, Address: subAddr.Addr().String(), Port: subAddr.Port()}})
	p.ready.Store(true)
	p.reroute()
	return p, mux, sub, ctx(2), ctx(1)
}

// TestDirectPeerRTCP: SRTCP from the subscriber's address is decrypted on
// the socket's reading goroutine, each packet reaches the handler of the
// SSRC it is about, transport-wide feedback goes to the estimator, and
// nothing reaches the reader that pion's UDP mux would use. SRTCP from
// another address, and RTP, pass through; a forged packet is dropped.
func TestDirectPeerRTCP(t *testing.T) {
	p, mux, sub, subEnc, _ := directPair(t)
	fb := &feedbackRecorder{}
	p.feedback = fb
	var mu sync.Mutex
	got := map[uint32][]rtcp.Packet{}
	for _, ssrc := range []uint32{111, 222} {
		p.Attach(ssrc, func(pkt rtcp.Packet) {
			mu.Lock()
			defer mu.Unlock()
			got[ssrc] = append(got[ssrc], pkt)
		})
	}
	detach333 := p.Attach(333, func(rtcp.Packet) { t.Error("a detached handler was called") })
	detach333()

	compound, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 111, FractionLost: 3}, {SSRC: 222}, {SSRC: 333}}},
		&rtcp.TransportLayerNack{SenderSSRC: 9, MediaSSRC: 222, Nacks: []rtcp.NackPair{{PacketID: 7}}},
		&rtcp.TransportLayerCC{Header: rtcp.Header{Padding: true, Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback, Length: 5},
			SenderSSRC: 9, MediaSSRC: 111, BaseSequenceNumber: 1, PacketStatusCount: 1,
			PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 1}},
			RecvDeltas:   []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := subEnc.EncryptRTCP(nil, compound, nil)
	if err != nil {
		t.Fatal(err)
	}
	to := p.conn.LocalAddr().(*net.UDPAddr)
	forged := bytes.Clone(enc)
	forged[len(forged)-12] ^= 0xff // inside the GCM tag
	rtpPkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 5}, Payload: []byte{1, 2, 3}}).Marshal()
	for _, b := range [][]byte{enc, forged, rtpPkt} {
		if _, err := sub.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.WriteToUDP(enc, to); err != nil {
		t.Fatal(err)
	}

	// What pion's mux would read: the RTP from the subscriber, then the
	// SRTCP from the unknown address, untouched.
	buf := make([]byte, 1500)
	_ = p.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := p.conn.ReadFromAddrPort(buf)
	if err != nil || !bytes.Equal(buf[:n], rtpPkt) || from != sub.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("first passed-through datagram: %d bytes from %v, %v; want the RTP packet", n, from, err)
	}
	n, _, err = p.conn.ReadFromAddrPort(buf)
	if err != nil || !bytes.Equal(buf[:n], enc) {
		t.Fatalf("second passed-through datagram: %d bytes, %v; want the other address's SRTCP", n, err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got[111]) != 1 || len(got[222]) != 2 {
		t.Fatalf("handler 111 got %d packets (want the RR), 222 got %d (want the RR and the NACK)", len(got[111]), len(got[222]))
	}
	if rr, ok := got[111][0].(*rtcp.ReceiverReport); !ok || rr.Reports[0].FractionLost != 3 {
		t.Errorf("handler 111 got %v, want the receiver report", got[111][0])
	}
	if _, ok := got[222][1].(*rtcp.TransportLayerNack); !ok {
		t.Errorf("handler 222 got %T second, want the NACK", got[222][1])
	}
	fb.mu.Lock()
	if len(fb.fbs) != 1 || fb.fbs[0].BaseSequenceNumber != 1 {
		t.Errorf("estimator got %d feedback packets, want 1", len(fb.fbs))
	}
	fb.mu.Unlock()
	if r, j := testutil.ToFloat64(mux.received), testutil.ToFloat64(mux.rejected); r != 1 || j != 1 {
		t.Errorf("received %v, rejected %v; want 1 and 1 (the forged packet)", r, j)
	}
}

// TestDirectPeerWriteRTP: a packet written on the direct path arrives at
// the subscriber encrypted, decrypts with the subscriber's context to what
// was written, and a closed peer neither writes nor takes RTCP.
func TestDirectPeerWriteRTP(t *testing.T) {
	p, mux, sub, _, subDec := directPair(t)
	h := &rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 65535, Timestamp: 90000, SSRC: 111, Marker: true}
	payload := bytes.Repeat([]byte{0xab}, 1100)
	if !p.Ready() {
		t.Fatal("peer not ready")
	}
	if err := p.WriteRTP(h, payload); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	_ = sub.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := sub.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf[:n], payload[:64]) {
		t.Fatal("payload left in the clear")
	}
	var dh rtp.Header
	plain, err := subDec.DecryptRTP(nil, buf[:n], &dh)
	if err != nil {
		t.Fatalf("subscriber cannot decrypt: %v", err)
	}
	if dh.SequenceNumber != 65535 || dh.SSRC != 111 || !dh.Marker || !bytes.Equal(plain[dh.MarshalSize():], payload) {
		t.Fatalf("decrypted header %+v, payload equal %v", dh, bytes.Equal(plain[dh.MarshalSize():], payload))
	}
	if v := testutil.ToFloat64(mux.sent); v != 1 {
		t.Errorf("sent counter %v, want 1", v)
	}

	p.close()
	if p.Ready() || p.WriteRTP(h, payload) == nil {
		t.Error("a closed peer still writes")
	}
	mux.mu.RLock()
	defer mux.mu.RUnlock()
	if len(mux.peers) != 0 {
		t.Errorf("a closed peer is still routed: %v", mux.peers)
	}
}

// FuzzDirectRTCP: whatever compound RTCP an authenticated viewer sends
// (encrypted with its real key, so it gets past SRTCP) is parsed and
// dispatched without panicking, and a packet is accepted exactly
// when pion's parser accepts it; the same bytes unencrypted are rejected.
func FuzzDirectRTCP(f *testing.F) {
	seeds := [][]rtcp.Packet{
		{&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 111}, {SSRC: 111}}}},
		{&rtcp.TransportLayerNack{SenderSSRC: 9, MediaSSRC: 222, Nacks: []rtcp.NackPair{{PacketID: 7, LostPackets: 0xffff}}}},
		{&rtcp.PictureLossIndication{SenderSSRC: 9, MediaSSRC: 111}, &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 1e6, SSRCs: []uint32{111, 222}}},
	}
	for _, s := range seeds {
		b, err := rtcp.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		if len(plain) < 8 {
			return // SRTCP needs the header and sender SSRC
		}
		p, _, _, subEnc, _ := directPair(t)
		p.feedback = &feedbackRecorder{}
		for _, ssrc := range []uint32{111, 222} {
			p.Attach(ssrc, func(rtcp.Packet) {})
		}
		if p.receiveRTCP(plain) {
			t.Fatal("an unencrypted packet was accepted")
		}
		enc, err := subEnc.EncryptRTCP(nil, plain, nil)
		if err != nil {
			return
		}
		_, perr := rtcp.Unmarshal(plain)
		if got := p.receiveRTCP(enc); got != (perr == nil) {
			t.Fatalf("accepted = %v, but pion's parser says %v", got, perr)
		}
	})
}

package dtlskeys

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// peer is a PeerConnection on its own muxed loopback socket.
type peer struct {
	pc  *webrtc.PeerConnection
	raw net.PacketConn // the socket under the ICE mux
}

// newPeer builds a PeerConnection with c applied and observe called on
// every inbound datagram.
func newPeer(t *testing.T, c *Capture, dtlsServer bool, observe func([]byte, net.Addr)) *peer {
	t.Helper()
	raw := listenUDP(t)
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: &observedConn{PacketConn: raw, observe: observe}})
	t.Cleanup(func() { _ = mux.Close() })
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEUDPMux(mux)
	if dtlsServer {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
			t.Fatal(err)
		}
	}
	c.Apply(&se)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return &peer{pc: pc, raw: raw}
}

// connect runs a non-trickle offer/answer; beforeAnswer runs on the
// answerer after it has the offer.
func connect(t *testing.T, offerer, answerer *webrtc.PeerConnection, beforeAnswer func()) {
	t.Helper()
	exchange := func(pc *webrtc.PeerConnection, create func(*webrtc.OfferOptions) (webrtc.SessionDescription, error)) webrtc.SessionDescription {
		sd, err := create(nil)
		if err != nil {
			t.Fatal(err)
		}
		gathered := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(sd); err != nil {
			t.Fatal(err)
		}
		<-gathered
		return *pc.LocalDescription()
	}
	offer := exchange(offerer, offerer.CreateOffer)
	if err := answerer.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	beforeAnswer()
	answer := exchange(answerer, func(*webrtc.OfferOptions) (webrtc.SessionDescription, error) { return answerer.CreateAnswer(nil) })
	if err := offerer.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// sniffer keeps copies of inbound datagrams that look like RTP or RTCP
// (RFC 7983: first byte 128-191; RTCP if the payload type is 64-95).
type sniffer struct {
	mu        sync.Mutex
	rtp, rtcp [][]byte
	from      net.Addr
}

func (s *sniffer) observe(b []byte, from net.Addr) {
	if len(b) < 12 || b[0] < 128 || b[0] > 191 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.from = from
	if pt := b[1] & 0x7f; pt >= 64 && pt <= 95 {
		s.rtcp = append(s.rtcp, bytes.Clone(b))
	} else if len(s.rtp) < 100 {
		s.rtp = append(s.rtp, bytes.Clone(b))
	}
}

func (s *sniffer) snapshot() (rtpPkts, rtcpPkts [][]byte, from net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.rtp...), append([][]byte(nil), s.rtcp...), s.from
}

// TestPeerConnectionKeys: the answerer is the DTLS server with a Capture;
// its remote context decrypts the offerer's SRTP and SRTCP, and its local
// context produces SRTP the offerer's pion stack accepts. The offerer (DTLS
// client, ServerHello observed) must derive the mirror image.
func TestPeerConnectionKeys(t *testing.T) {
	offerCap, answerCap, sniff := New(), New(), &sniffer{}
	offerer := newPeer(t, offerCap, false, func(b []byte, _ net.Addr) { offerCap.ObserveDatagram(b) })
	answerer := newPeer(t, answerCap, true, sniff.observe)

	offerTrack, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "offerer")
	if err != nil {
		t.Fatal(err)
	}
	offerSender, err := offerer.pc.AddTrack(offerTrack)
	if err != nil {
		t.Fatal(err)
	}
	remoteTracks := make(chan *webrtc.TrackRemote, 1)
	offerer.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { remoteTracks <- tr })
	var answerSender *webrtc.RTPSender
	connect(t, offerer.pc, answerer.pc, func() {
		track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "answerer")
		if err != nil {
			t.Fatal(err)
		}
		if answerSender, err = answerer.pc.AddTrack(track); err != nil {
			t.Fatal(err)
		}
	})
	waitFor(t, "connected", func() bool {
		return offerer.pc.ConnectionState() == webrtc.PeerConnectionStateConnected &&
			answerer.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})

	keys, err := answerCap.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if keys.IsClient || keys.Profile != srtp.ProtectionProfileAeadAes128Gcm {
		t.Fatalf("answerer keys: client %v profile %v", keys.IsClient, keys.Profile)
	}
	checkMirror(t, offerCap, keys)
	local, remote, err := keys.Contexts()
	if err != nil {
		t.Fatal(err)
	}
	offerSSRC := uint32(offerSender.GetParameters().Encodings[0].SSRC)
	checkRemoteDecrypts(t, offerer.pc, offerTrack, offerSSRC, sniff, remote)
	checkLocalAccepted(t, answerer.raw, answerSender, sniff, local, remoteTracks)
}

// checkMirror checks that the DTLS client's Capture derived the answerer's
// keys with local and remote swapped.
func checkMirror(t *testing.T, c *Capture, server Keys) {
	t.Helper()
	k, err := c.Keys()
	if err != nil {
		t.Fatalf("offerer keys: %v", err)
	}
	if !k.IsClient || k.Profile != server.Profile ||
		!bytes.Equal(k.LocalKey, server.RemoteKey) || !bytes.Equal(k.LocalSalt, server.RemoteSalt) ||
		!bytes.Equal(k.RemoteKey, server.LocalKey) || !bytes.Equal(k.RemoteSalt, server.LocalSalt) {
		t.Fatalf("offerer keys %+v do not mirror answerer keys %+v", k, server)
	}
}

// checkRemoteDecrypts makes the offerer send RTP and an RTCP PLI and
// decrypts what reached the answerer's socket with remote.
func checkRemoteDecrypts(t *testing.T, pc *webrtc.PeerConnection, track *webrtc.TrackLocalStaticRTP, ssrc uint32,
	sniff *sniffer, remote *srtp.Context) {
	t.Helper()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for seq := uint16(1000); ; seq++ {
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000},
				Payload: fmt.Appendf(nil, "offerer-%05d", seq)}
			_ = track.WriteRTP(pkt)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-done }()
	if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{SenderSSRC: 77, MediaSSRC: 4242}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "offerer RTP and RTCP", func() bool { r, c, _ := sniff.snapshot(); return len(r) >= 10 && len(c) >= 1 })

	rtpPkts, rtcpPkts, _ := sniff.snapshot()
	for _, enc := range rtpPkts {
		plain, err := remote.DecryptRTP(nil, enc, nil)
		if err != nil {
			t.Fatalf("remote context cannot decrypt offerer RTP: %v", err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(plain); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("offerer-%05d", p.SequenceNumber); p.SSRC != ssrc || string(p.Payload) != want {
			t.Fatalf("decrypted ssrc %d payload %q, want %d %q", p.SSRC, p.Payload, ssrc, want)
		}
	}
	plain, err := remote.DecryptRTCP(nil, rtcpPkts[0], nil)
	if err != nil {
		t.Fatalf("remote context cannot decrypt offerer RTCP: %v", err)
	}
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if pli, ok := pkts[0].(*rtcp.PictureLossIndication); !ok || pli.SenderSSRC != 77 || pli.MediaSSRC != 4242 {
		t.Fatalf("decrypted RTCP %+v, want the PLI sent", pkts[0])
	}
}

// checkLocalAccepted encrypts RTP for the answerer's signalled SSRC with
// local, writes it from the answerer's socket to the offerer, and checks the
// offerer's pion stack delivers it.
func checkLocalAccepted(t *testing.T, raw net.PacketConn, sender *webrtc.RTPSender, sniff *sniffer,
	local *srtp.Context, tracks <-chan *webrtc.TrackRemote) {
	t.Helper()
	params := sender.GetParameters()
	ssrc, pt := uint32(params.Encodings[0].SSRC), uint8(params.Codecs[0].PayloadType)
	_, _, offererAddr := sniff.snapshot()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for seq := uint16(100); ; seq++ {
			pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 3000,
				SSRC: ssrc}, Payload: fmt.Appendf(nil, "answerer-%05d", seq)}
			plain, err := pkt.Marshal()
			if err != nil {
				t.Error(err)
				return
			}
			enc, err := local.EncryptRTP(nil, plain, nil)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = raw.WriteTo(enc, offererAddr)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-done }()

	var tr *webrtc.TrackRemote
	select {
	case tr = <-tracks:
	case <-time.After(10 * time.Second):
		t.Fatal("offerer never got a track from the injected SRTP")
	}
	if err := tr.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p, _, err := tr.ReadRTP()
		if err != nil {
			t.Fatalf("offerer ReadRTP: %v", err)
		}
		if want := fmt.Sprintf("answerer-%05d", p.SequenceNumber); p.SSRC != ssrc || string(p.Payload) != want {
			t.Fatalf("offerer read ssrc %d payload %q, want %d %q", p.SSRC, p.Payload, ssrc, want)
		}
	}
}

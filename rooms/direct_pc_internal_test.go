package rooms

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestDirectPathWithRealPeer connects a subscriber transport, as the
// classic /rtc path builds it, to a pion viewer over loopback.
//   - When the viewer answers as the DTLS client (what browsers and
//     server-sdk-go do), the SFU is the DTLS server: the direct path gets
//     ready, a packet written on it reaches the viewer's track decrypted,
//     and the viewer's RTCP is read on the direct path.
//   - When the viewer answers a=setup:passive, the SFU is the DTLS client
//     and cannot see the ServerHello: the direct path stays off and pion's
//     path carries the media.
func TestDirectPathWithRealPeer(t *testing.T) {
	for _, c := range []struct {
		name       string
		viewerRole webrtc.DTLSRole
		direct     bool
	}{
		{"sfu is dtls server", webrtc.DTLSRoleClient, true},
		{"sfu is dtls client", webrtc.DTLSRoleServer, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			media, tr, track, sender := subscriberTransport(t)
			viewer, got := connectViewer(t, tr.pc, c.viewerRole)
			defer viewer.Close()

			// Pion's path: the static track's packets reach the viewer.
			payload := bytes.Repeat([]byte{0x10, 0, 0, 0x9d, 1, 0x2a}, 50)
			var seq uint16
			waitPayload := func(via string, write func() error) {
				t.Helper()
				for {
					if err := write(); err != nil {
						t.Fatalf("%s write: %v", via, err)
					}
					select {
					case p := <-got:
						if bytes.Equal(p, payload) {
							return
						}
					case <-time.After(20 * time.Millisecond):
					case <-ctx.Done():
						t.Fatalf("nothing the SFU wrote %s reached the viewer", via)
					}
				}
			}
			waitPayload("through pion", func() error {
				seq++
				return track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000}, Payload: payload})
			})
			// Pion reports DTLS connected, which starts the direct path,
			// before it starts its own SRTP: the path is decided by now.
			if tr.direct.Ready() != c.direct {
				t.Fatalf("direct path ready = %v, want %v", tr.direct.Ready(), c.direct)
			}
			if !c.direct {
				return
			}
			params := sender.GetParameters()
			h := rtp.Header{Version: 2, PayloadType: uint8(params.Codecs[0].PayloadType), SSRC: uint32(params.Encodings[0].SSRC)}
			waitPayload("on the direct path", func() error {
				seq++
				h.SequenceNumber, h.Timestamp = seq, uint32(seq)*3000
				return tr.direct.WriteRTP(&h, payload)
			})
			waitRTCP := func(above float64) {
				t.Helper()
				for testutil.ToFloat64(media.direct.received) <= above {
					select {
					case <-ctx.Done():
						t.Fatal("the viewer's RTCP never reached the direct path")
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			waitRTCP(0)

			// A network change: the viewer restarts ICE from new sockets.
			// The path follows the new pair, and stops routing the old one.
			before := *tr.direct.peerBatch.remote.Load()
			exchange(t, tr.pc, viewer, &webrtc.OfferOptions{ICERestart: true})
			for a := tr.direct.peerBatch.remote.Load(); a == nil || *a == before; a = tr.direct.peerBatch.remote.Load() {
				select {
				case <-ctx.Done():
					t.Fatalf("the selected pair stayed at %v after the ICE restart", before)
				case <-time.After(20 * time.Millisecond):
				}
			}
			waitPayload("on the direct path after the ICE restart", func() error {
				seq++
				h.SequenceNumber, h.Timestamp = seq, uint32(seq)*3000
				return tr.direct.WriteRTP(&h, payload)
			})
			waitRTCP(testutil.ToFloat64(media.direct.received))
			media.direct.mu.RLock()
			_, stale := media.direct.peers[before]
			routes := len(media.direct.peers)
			media.direct.mu.RUnlock()
			if stale || routes != 1 {
				t.Errorf("after the restart the mux routes %d addresses, the old one %v", routes, stale)
			}
		})
	}
}

// subscriberTransport builds a media API and a send-only subscriber
// transport on it (the direct path on), with one VP8 track added; cleanup
// closes them.
func subscriberTransport(t testing.TB) (*mediaAPI, *transport, *webrtc.TrackLocalStaticRTP, *webrtc.RTPSender) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	media, err := newMediaAPI(RTCConfig{BindIP: "127.0.0.1", LoopbackCandidates: true, GSO: true, DirectSRTP: true}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = media.Close() })
	tr, err := newTransport(media, livekit.SignalTarget_SUBSCRIBER, true, false, func(*livekit.SignalResponse) {}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.close() })
	if tr.direct == nil {
		t.Fatal("a send-only transport has no direct path")
	}
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "v", "s")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := tr.pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	return media, tr, track, sender
}

// connectViewer answers pc's offer from a pion viewer that takes role in
// DTLS, and returns it with the payloads of the RTP it receives.
func connectViewer(t testing.TB, pc *webrtc.PeerConnection, role webrtc.DTLSRole) (*webrtc.PeerConnection, <-chan []byte) {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if err := se.SetAnsweringDTLSRole(role); err != nil {
		t.Fatal(err)
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	viewer, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 64)
	viewer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case got <- p.Payload:
			default:
			}
		}
	})
	exchange(t, pc, viewer, nil)
	return viewer, got
}

// exchange makes pc offer (with opts) and the viewer answer, each after
// gathering all its candidates.
func exchange(t testing.TB, pc, viewer *webrtc.PeerConnection, opts *webrtc.OfferOptions) {
	t.Helper()
	offer, err := pc.CreateOffer(opts)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := viewer.SetRemoteDescription(*pc.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := viewer.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered = webrtc.GatheringCompletePromise(viewer)
	if err := viewer.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if err := pc.SetRemoteDescription(*viewer.LocalDescription()); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSubscriberWrite compares one RTP packet (1,100 bytes) sent to a
// pion viewer on loopback through pion's RTPSender path (interceptors, SRTP
// session, mux, ICE) with the direct path, in one run. Both end in the
// same UDP socket, unbatched; the viewer's receive work is on other
// goroutines and partly counted.
func BenchmarkSubscriberWrite(b *testing.B) {
	_, tr, track, sender := subscriberTransport(b)
	viewer, got := connectViewer(b, tr.pc, webrtc.DTLSRoleClient)
	defer viewer.Close()
	payload := bytes.Repeat([]byte{0x10, 0, 0, 0x9d, 1, 0x2a}, 183)
	params := sender.GetParameters()
	h := rtp.Header{Version: 2, PayloadType: uint8(params.Codecs[0].PayloadType), SSRC: uint32(params.Encodings[0].SSRC)}
	var seq uint16
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 || !tr.direct.Ready() {
		if time.Now().After(deadline) {
			b.Fatal("viewer not connected")
		}
		seq++
		_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq}, Payload: payload})
		time.Sleep(10 * time.Millisecond)
	}
	b.Run("pion", func(b *testing.B) {
		pkt := &rtp.Packet{Header: h, Payload: payload}
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			seq++
			pkt.SequenceNumber = seq
			if err := track.WriteRTP(pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			seq++
			h.SequenceNumber = seq
			if err := tr.direct.WriteRTP(&h, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}

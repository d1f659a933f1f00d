package rooms_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"google.golang.org/protobuf/proto"

	"github.com/marquee-party/marquee/rooms/forward"
)

// redViewer is a plain pion subscriber that negotiates RED for Opus, as
// Chromium does ("red/48000/2", fmtp "111/111"), over the raw signal
// protocol: server-sdk-go's clients register no RED.
type redViewer struct {
	t  *testing.T
	c  *rawClient
	pc *webrtc.PeerConnection

	pending []webrtc.ICECandidateInit // signal's, until the offer
}

func newREDViewer(t *testing.T, s *sfu, identity string) *redViewer {
	t.Helper()
	return newREDViewerAt(t, s, identity, true)
}

// newREDViewerAt is newREDViewer, offering RED only with red.
func newREDViewerAt(t *testing.T, s *sfu, identity string, red bool) *redViewer {
	t.Helper()
	m := &webrtc.MediaEngine{}
	codecs := []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000,
			Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		{PayloadType: 63, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: forward.MimeTypeRED, ClockRate: 48000,
			Channels: 2, SDPFmtpLine: "111/111"}},
	}
	if !red {
		codecs = codecs[:1]
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	c, _ := dialRaw(t, s, token(t, identity, &auth.VideoGrant{RoomJoin: true, Room: "party"}), "")
	return &redViewer{t: t, c: c, pc: pc}
}

// signal answers the SFU's subscriber offers and applies its candidates
// until ctx ends. Errors end it and are returned.
func (v *redViewer) signal(ctx context.Context) error {
	for {
		typ, b, err := v.c.ws.Read(ctx)
		if err != nil {
			return err
		}
		if typ != websocket.MessageBinary {
			continue
		}
		msg := &livekit.SignalResponse{}
		if err := proto.Unmarshal(b, msg); err != nil {
			return err
		}
		switch m := msg.Message.(type) {
		case *livekit.SignalResponse_Offer:
			if err := v.answer(ctx, m.Offer); err != nil {
				return err
			}
		case *livekit.SignalResponse_Trickle:
			if m.Trickle.Target != livekit.SignalTarget_SUBSCRIBER {
				continue
			}
			var init webrtc.ICECandidateInit
			if err := json.Unmarshal([]byte(m.Trickle.CandidateInit), &init); err != nil {
				return err
			}
			if v.pc.RemoteDescription() == nil {
				v.pending = append(v.pending, init)
			} else if err := v.pc.AddICECandidate(init); err != nil {
				return err
			}
		}
	}
}

// answer answers one offer with all candidates in the SDP.
func (v *redViewer) answer(ctx context.Context, offer *livekit.SessionDescription) error {
	if err := v.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.Sdp}); err != nil {
		return err
	}
	for _, c := range v.pending {
		if err := v.pc.AddICECandidate(c); err != nil {
			return err
		}
	}
	v.pending = nil
	ans, err := v.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	<-gathered
	b, err := proto.Marshal(&livekit.SignalRequest{Message: &livekit.SignalRequest_Answer{Answer: &livekit.SessionDescription{
		Type: "answer", Sdp: v.pc.LocalDescription().SDP, Id: offer.Id}}})
	if err != nil {
		return err
	}
	return v.c.ws.Write(ctx, websocket.MessageBinary, b)
}

// TestSubscriberNegotiatingREDRecoversLostOpus publishes plain Opus with
// server-sdk-go, as the ingest does, to a subscriber that negotiates RED.
// The subscriber discards every fifth packet as if the network lost it
// and rebuilds each lost Opus frame from the redundancy of the packet that
// follows; every rebuilt frame must be the one the publisher sent.
func TestSubscriberNegotiatingREDRecoversLostOpus(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	pub := joinSDK(t, s, "ingest-1", &auth.VideoGrant{RoomJoin: true, Room: "party"}, lksdk.NewRoomCallback())
	track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000,
		Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "audio",
		Source: livekit.TrackSource_MICROPHONE}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// Each frame is unique: a SILK 20 ms TOC byte and the frame number.
	frame := func(n uint32) []byte { return []byte{0x78, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0xaa} }
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for n := uint32(0); ctx.Err() == nil; n++ {
			_ = track.WriteSample(media.Sample{Data: frame(n), Duration: 20 * time.Millisecond}, nil)
			<-tick.C
		}
	}()

	v := newREDViewer(t, s, "viewer-1")
	type result struct {
		recovered, lost int
		err             string
	}
	done := make(chan result, 1)
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Codec().MimeType != forward.MimeTypeRED {
			done <- result{err: "negotiated " + tr.Codec().MimeType + ", want " + forward.MimeTypeRED}
			return
		}
		var res result
		var lostTS uint32
		var lostPayload []byte
		var blocks []forward.REDBlock
		for res.recovered < 20 {
			p, _, err := tr.ReadRTP()
			if err != nil {
				done <- result{err: err.Error()}
				return
			}
			blocks, err = forward.ParseRED(p.Payload, blocks[:0])
			if err != nil {
				done <- result{err: err.Error()}
				return
			}
			if lostPayload != nil {
				var got []byte
				for _, b := range blocks {
					if p.Timestamp-b.TSOffset == lostTS && b.TSOffset != 0 {
						got = b.Payload
					}
				}
				if string(got) != string(lostPayload) {
					done <- result{err: "rebuilt " + string(got) + ", sent " + string(lostPayload)}
					return
				}
				res.recovered++
				lostPayload = nil
			}
			if p.SequenceNumber%5 == 0 && len(blocks) > 0 { // "lost": keep what it carried to check the rebuild
				primary := blocks[len(blocks)-1]
				lostTS, lostPayload = p.Timestamp, append([]byte(nil), primary.Payload...)
				res.lost++
			}
		}
		done <- res
	})
	go func() { _ = v.signal(ctx) }()

	select {
	case res := <-done:
		if res.err != "" {
			t.Fatal(res.err)
		}
		t.Logf("rebuilt %d of %d lost frames from RED", res.recovered, res.lost)
	case <-ctx.Done():
		t.Fatal("timed out waiting for the subscriber's audio")
	}
}

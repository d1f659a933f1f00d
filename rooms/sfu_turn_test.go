package rooms_test

import (
	"context"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"github.com/marquee-party/marquee/rooms"
)

// TestSDKThroughTURNRelay: unmodified server-sdk-go clients, with pion's
// default SettingEngine (no loopback host candidates), publish and
// receive media from an SFU that listens on 127.0.0.1 only. They are
// held to relayed candidates, which is all such a client has on a host
// whose only interface is lo: the SFU's TURN relay (sfu.turn, on by
// itself with loopback candidates) that the JoinResponse names is their
// one way in.
func TestSDKThroughTURNRelay(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "relay"} }
	relayOnly := lksdk.WithICETransportPolicy(webrtc.ICETransportPolicyRelay)

	pub, err := lksdk.ConnectToRoomWithToken(s.url, token(t, "ingest-relay", grant()), lksdk.NewRoomCallback(),
		lksdk.WithAutoSubscribe(false), relayOnly)
	if err != nil {
		t.Fatalf("publisher join: %v", err)
	}
	t.Cleanup(pub.Disconnect)
	track, err := lksdk.NewLocalFileTrack(vp8Clip(t), lksdk.ReaderTrackWithFrameDuration(33*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "video",
		Source: livekit.TrackSource_CAMERA, VideoWidth: 320, VideoHeight: 180}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	rec := &sdkRecorder{}
	viewer, err := lksdk.ConnectToRoomWithToken(s.url, token(t, "viewer-relay", grant()), rec.callback(),
		lksdk.WithAutoSubscribe(true), relayOnly)
	if err != nil {
		t.Fatalf("viewer join: %v", err)
	}
	t.Cleanup(viewer.Disconnect)
	eventually(t, ctx, "viewer receives RTP through the relay", func() bool { n, _, _ := rec.snapshot(); return n > 30 })
	if n := counter(t, s.reg, "marquee_sfu_turn_allocations"); n < 2 {
		t.Errorf("%v TURN allocations, want one per client connection at least", n)
	}
}

// TestTURNConfig: the production default runs no relay and needs no
// turn key; turn.* values are checked by name.
func TestTURNConfig(t *testing.T) {
	c := rooms.DefaultConfig()
	c.Keys = map[string]string{"k": "secret"}
	if err := c.Validate(); err != nil {
		t.Fatalf("production default: %v", err)
	}
	c.TURN.Enabled = "yes"
	if err := c.Validate(); err == nil {
		t.Error(`turn.enabled "yes" accepted`)
	}
	c.TURN.Enabled = rooms.TURNOn
	if err := c.Validate(); err == nil {
		t.Error("turn.enabled=true with no relay_ip, bind_ip or loopback candidates accepted")
	}
	c.TURN.RelayIP = "10.0.0.5"
	if err := c.Validate(); err != nil {
		t.Errorf("turn.enabled=true with a relay_ip: %v", err)
	}
	c.TURN.MaxAllocations = 0
	if err := c.Validate(); err == nil {
		t.Error("turn.max_allocations=0 accepted while the relay is on")
	}
}

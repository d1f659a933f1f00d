package rooms_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// sdkRecorder collects what a server-sdk-go client observed.
type sdkRecorder struct {
	mu      sync.Mutex
	packets int
	tracks  []string
	data    []lksdk.UserDataPacket
	from    []string
}

func (r *sdkRecorder) callback() *lksdk.RoomCallback {
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		r.mu.Lock()
		r.tracks = append(r.tracks, pub.SID())
		r.mu.Unlock()
		go func() {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				r.mu.Lock()
				r.packets++
				r.mu.Unlock()
			}
		}()
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := data.(*lksdk.UserDataPacket); ok {
			r.mu.Lock()
			r.data = append(r.data, *u)
			r.from = append(r.from, params.SenderIdentity)
			r.mu.Unlock()
		}
	}
	return cb
}

func (r *sdkRecorder) snapshot() (packets int, tracks int, data int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.packets, len(r.tracks), len(r.data)
}

func joinSDK(t *testing.T, s *sfu, identity string, grant *auth.VideoGrant, cb *lksdk.RoomCallback) *lksdk.Room {
	t.Helper()
	room, err := lksdk.ConnectToRoomWithToken(s.url, token(t, identity, grant), cb, lksdk.WithAutoSubscribe(true))
	if errors.Is(err, lksdk.ErrConnectionTimeout) {
		// The SDK gives ICE 15 s; with the whole suite's encoders on two
		// cores it can starve. A client joins again, as the web app does:
		// a real failure fails twice.
		t.Logf("%s join timed out (%v); joining again", identity, err)
		room, err = lksdk.ConnectToRoomWithToken(s.url, token(t, identity, grant), cb, lksdk.WithAutoSubscribe(true))
	}
	if err != nil {
		t.Fatalf("%s join: %v", identity, err)
	}
	t.Cleanup(room.Disconnect)
	return room
}

// TestSDKPublishSubscribeData: a server-sdk-go publisher sends a VP8 file
// track and data; a second SDK client receives both over the classic /rtc
// path (two peer connections).
func TestSDKPublishSubscribeData(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clip := vp8Clip(t)

	pubRec := &sdkRecorder{}
	pub := joinSDK(t, s, "ingest-1", &auth.VideoGrant{RoomJoin: true, Room: "party"}, pubRec.callback())
	track, err := lksdk.NewLocalFileTrack(clip, lksdk.ReaderTrackWithFrameDuration(33*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := pub.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "video",
		Source: livekit.TrackSource_CAMERA, VideoWidth: 320, VideoHeight: 180})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}

	viewRec := &sdkRecorder{}
	muted := make(chan string, 4)
	viewCB := viewRec.callback()
	viewCB.OnTrackMuted = func(pub lksdk.TrackPublication, _ lksdk.Participant) { muted <- pub.SID() }
	viewer := joinSDK(t, s, "viewer-1", &auth.VideoGrant{RoomJoin: true, Room: "party"}, viewCB)
	eventually(t, ctx, "viewer receives RTP", func() bool { n, _, _ := viewRec.snapshot(); return n > 30 })
	// A key frame's packets leave the muxed socket as one UDP GSO write.
	eventually(t, ctx, "a GSO write", func() bool { return counter(t, s.reg, "marquee_sfu_udp_gso_sends_total") > 0 })
	if d, c := counter(t, s.reg, "marquee_sfu_udp_datagrams_sent_total"), counter(t, s.reg, "marquee_sfu_udp_send_syscalls_total"); d <= c {
		t.Errorf("%v datagrams in %v send syscalls: nothing was batched", d, c)
	}
	// The viewer's subscriber connection only receives: the SFU encrypts
	// its media itself and reads its RTCP off the socket (rtc.direct_srtp).
	// The viewer's pion decrypting that media is the proof the keys match.
	eventually(t, ctx, "direct SRTP writes and RTCP reads", func() bool {
		return counter(t, s.reg, "marquee_sfu_direct_rtp_sent_total") > 0 &&
			counter(t, s.reg, "marquee_sfu_direct_rtcp_received_total") > 0
	})
	before, _, _ := viewRec.snapshot()
	eventually(t, ctx, "viewer decrypts direct-path RTP", func() bool { n, _, _ := viewRec.snapshot(); return n > before+30 })
	if n := counter(t, s.reg, "marquee_sfu_direct_rtcp_rejected_total"); n != 0 {
		t.Errorf("%v SRTCP packets failed to decrypt on the direct path", n)
	}

	if err := pub.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: []byte(`{"type":"playback"}`),
		Topic: "marquee.playback"}, lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatalf("publish data: %v", err)
	}
	eventually(t, ctx, "viewer receives data", func() bool { _, _, d := viewRec.snapshot(); return d > 0 })
	viewRec.mu.Lock()
	got, from := viewRec.data[0], viewRec.from[0]
	viewRec.mu.Unlock()
	if got.Topic != "marquee.playback" || string(got.Payload) != `{"type":"playback"}` || from != "ingest-1" {
		t.Errorf("data = %q on %q from %q", got.Payload, got.Topic, from)
	}
	if rp := viewer.GetParticipantByIdentity("ingest-1"); rp == nil || len(rp.TrackPublications()) != 1 {
		t.Errorf("viewer does not list the publisher's track")
	}

	// The control plane mutes the track through the RoomService.
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	res, err := rs.MutePublishedTrack(ctx, &livekit.MuteRoomTrackRequest{Room: "party", Identity: "ingest-1",
		TrackSid: lp.SID(), Muted: true})
	if err != nil || !res.Track.Muted {
		t.Fatalf("MutePublishedTrack = %v, %v", res, err)
	}
	select {
	case sid := <-muted:
		if sid != lp.SID() {
			t.Errorf("viewer saw %s muted, want %s", sid, lp.SID())
		}
	case <-ctx.Done():
		t.Fatal("viewer never saw the mute")
	}
}

// TestSDKResume: both SDK clients drop their signal connection
// (reconnect=1 resume); media and data keep flowing, nobody leaves.
func TestSDKResume(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "resume"} }
	pub := joinSDK(t, s, "ingest-2", grant(), lksdk.NewRoomCallback())
	track, err := lksdk.NewLocalFileTrack(vp8Clip(t), lksdk.ReaderTrackWithFrameDuration(33*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "video"}); err != nil {
		t.Fatal(err)
	}
	rec := &sdkRecorder{}
	viewer := joinSDK(t, s, "viewer-2", grant(), rec.callback())
	eventually(t, ctx, "first packets", func() bool { n, _, _ := rec.snapshot(); return n > 10 })

	viewer.Simulate(lksdk.SimulateSignalReconnect)
	pub.Simulate(lksdk.SimulateSignalReconnect)
	eventually(t, ctx, "both resumed", func() bool { return counter(t, s.reg, "marquee_sfu_joins_total") >= 4 })
	n0, _, _ := rec.snapshot()
	eventually(t, ctx, "packets after resume", func() bool { n, _, _ := rec.snapshot(); return n > n0+30 })
	if err := pub.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: []byte("still here")},
		lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "data after resume", func() bool { _, _, d := rec.snapshot(); return d > 0 })
	if p := counter(t, s.reg, "marquee_sfu_participants"); p != 2 {
		t.Errorf("participants = %v after resume, want 2", p)
	}
}

// TestDuplicateIdentity: joining again with the same identity replaces the
// older participant, which is told why.
func TestDuplicateIdentity(t *testing.T) {
	s := startSFU(t)
	grant := &auth.VideoGrant{RoomJoin: true, Room: "dup"}
	old, _ := dialRaw(t, s, token(t, "same", grant), "")
	dialRaw(t, s, token(t, "same", grant), "")
	leave := old.next(func(r *livekit.SignalResponse) bool { return r.GetLeave() != nil }).GetLeave()
	if leave.Reason != livekit.DisconnectReason_DUPLICATE_IDENTITY {
		t.Fatalf("old participant left with %v", leave.Reason)
	}
}

// TestSDKUnpublish: a publisher that removes its track (as the ingest does
// between a film and an album) is seen to unpublish by subscribers.
func TestSDKUnpublish(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "unpub"} }
	pub := joinSDK(t, s, "ingest-4", grant(), lksdk.NewRoomCallback())
	track, err := lksdk.NewLocalFileTrack(vp8Clip(t), lksdk.ReaderTrackWithFrameDuration(33*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	lp, err := pub.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "video"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	unpublished := 0
	rec := &sdkRecorder{}
	cb := rec.callback()
	cb.OnTrackUnpublished = func(*lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) {
		mu.Lock()
		unpublished++
		mu.Unlock()
	}
	joinSDK(t, s, "viewer-4", grant(), cb)
	eventually(t, ctx, "packets", func() bool { n, _, _ := rec.snapshot(); return n > 10 })
	if err := pub.LocalParticipant.UnpublishTrack(lp.SID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "viewer sees the unpublish", func() bool { mu.Lock(); defer mu.Unlock(); return unpublished == 1 })
	eventually(t, ctx, "track count drops", func() bool { return counter(t, s.reg, "marquee_sfu_published_tracks") == 0 })

	// Publish again, then have the API revoke canPublish: the server
	// unpublishes the track itself.
	again, err := lksdk.NewLocalFileTrack(vp8Clip(t), lksdk.ReaderTrackWithFrameDuration(33*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.LocalParticipant.PublishTrack(again, &lksdk.TrackPublicationOptions{Name: "video"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "second track live", func() bool { return counter(t, s.reg, "marquee_sfu_published_tracks") == 1 })
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	if _, err := rs.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: "unpub", Identity: "ingest-4",
		Permission: &livekit.ParticipantPermission{CanSubscribe: true, CanPublishData: true}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "revoked track unpublished", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return unpublished == 2 && counter(t, s.reg, "marquee_sfu_published_tracks") == 0
	})
}

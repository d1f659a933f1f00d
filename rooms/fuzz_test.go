package rooms

import (
	"context"
	"testing"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// fuzzTarget is one participant whose signal handling the fuzzer drives
// directly (no WebSocket), so every decoded message reaches the handlers.
type fuzzTarget struct {
	srv  *Server
	room *Room
	p    *participant
}

func newFuzzTarget(tb testing.TB, single bool) *fuzzTarget {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.ApplyDev()
	cfg.RTC.UDPPort = 0
	cfg.TURN.UDPPort = 0
	srv, err := NewServer(Params{Config: cfg})
	if err != nil {
		tb.Fatal(err)
	}
	ft := &fuzzTarget{srv: srv, room: newRoom(srv, "fuzz", nil)}
	srv.registry.LoadOrCreate("fuzz", func() *Room { return ft.room })
	ft.join(tb, single)
	tb.Cleanup(func() { _ = srv.Close() })
	return ft
}

func (ft *fuzzTarget) join(tb testing.TB, single bool) {
	grants := &auth.ClaimGrants{Identity: "fuzzer", Video: &auth.VideoGrant{RoomJoin: true, Room: "fuzz"}}
	p := newParticipant(ft.srv, ft.room, joinParams{grants: grants, singlePC: single, autoSubscribe: true}, "PA_fuzz")
	if err := p.setupTransports(); err != nil {
		tb.Fatal(err)
	}
	var jerr error
	if err := ft.room.do(context.Background(), func() { _, _, jerr = ft.room.join(p) }); err != nil || jerr != nil {
		tb.Fatal(err, jerr)
	}
	go p.run()
	ft.p = p
}

// handle runs one message on the participant's goroutine, as the read
// loop would, and waits for it.
func (ft *fuzzTarget) handle(tb testing.TB, req *livekit.SignalRequest) {
	if err := ft.p.do(context.Background(), func() { ft.p.handleSignal(req) }); err != nil {
		ft.join(tb, ft.p.singlePC) // the fuzzer sent a leave: start over
	}
}

func signalSeeds() []*livekit.SignalRequest {
	return []*livekit.SignalRequest{
		{Message: &livekit.SignalRequest_Offer{Offer: &livekit.SessionDescription{Type: "offer", Sdp: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", Id: 1}}},
		{Message: &livekit.SignalRequest_Answer{Answer: &livekit.SessionDescription{Type: "answer", Sdp: "v=0"}}},
		{Message: &livekit.SignalRequest_Trickle{Trickle: &livekit.TrickleRequest{CandidateInit: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0"}`}}},
		{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{Cid: "c", Type: livekit.TrackType_VIDEO,
			Layers: []*livekit.VideoLayer{{Quality: livekit.VideoQuality_HIGH, Width: 1280, Height: 720}}}}},
		{Message: &livekit.SignalRequest_Mute{Mute: &livekit.MuteTrackRequest{Sid: "TR_x", Muted: true}}},
		{Message: &livekit.SignalRequest_Subscription{Subscription: &livekit.UpdateSubscription{TrackSids: []string{"TR_x"}, Subscribe: true}}},
		{Message: &livekit.SignalRequest_TrackSetting{TrackSetting: &livekit.UpdateTrackSettings{TrackSids: []string{"TR_x"}, Quality: 1}}},
		{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{Metadata: "m", Attributes: map[string]string{"a": "b"}}}},
		{Message: &livekit.SignalRequest_PingReq{PingReq: &livekit.Ping{Timestamp: 1}}},
		{Message: &livekit.SignalRequest_Ping{Ping: 2}},
		{Message: &livekit.SignalRequest_SyncState{SyncState: &livekit.SyncState{}}},
		{Message: &livekit.SignalRequest_Leave{Leave: &livekit.LeaveRequest{}}},
	}
}

// FuzzSignalRequest feeds arbitrary frames through the decoder and, when
// they decode, through a live participant's handlers: nothing may panic
// or wedge the participant.
func FuzzSignalRequest(f *testing.F) {
	for _, s := range signalSeeds() {
		b, _ := proto.Marshal(s)
		f.Add(false, b)
		j, _ := protojson.Marshal(s)
		f.Add(true, j)
	}
	f.Add(false, []byte{0xff, 0xff})
	f.Add(true, []byte(`{"offer":{"sdp":7}}`))
	targets := map[bool]*fuzzTarget{false: newFuzzTarget(f, false), true: newFuzzTarget(f, true)}
	f.Fuzz(func(t *testing.T, text bool, b []byte) {
		req, err := decodeSignalRequest(text, b)
		if err != nil {
			return
		}
		for _, ft := range targets {
			ft.handle(t, req)
		}
	})
}

// FuzzJoinRequest fuzzes the /rtc/v1 join_request decoder (base64url,
// WrappedJoinRequest, gzip, JoinRequest).
func FuzzJoinRequest(f *testing.F) {
	f.Add("")
	f.Add("CAESQB-LCAAAAAAAAAPjEuRgFGIz0jMy1jOQEExgymJkEmLiYLRgdGD04g9wjI_0CMj0TsrNy6x0sgAA-RiEmiwAAAA=")
	wrapped, _ := proto.Marshal(&livekit.WrappedJoinRequest{JoinRequest: []byte{0x38, 0x01}})
	f.Add(string(wrapped))
	f.Fuzz(func(t *testing.T, s string) {
		req, err := decodeJoinRequest(s)
		if err == nil && req == nil {
			t.Fatal("nil request without an error")
		}
	})
}

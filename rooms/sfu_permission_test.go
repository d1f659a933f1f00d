package rooms_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/marquee-party/marquee/rooms"
)

// rawToken signs a token whose exp is expiry, or that has no exp when
// expiry is zero; auth.AccessToken cannot make either.
func rawToken(t *testing.T, identity string, grant *auth.VideoGrant, expiry time.Time) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(testSecret)},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.Claims{Issuer: testKey, Subject: identity, NotBefore: jwt.NewNumericDate(time.Now().Add(-time.Hour))}
	if !expiry.IsZero() {
		claims.Expiry = jwt.NewNumericDate(expiry)
	}
	tok, err := jwt.Signed(sig).Claims(claims).Claims(&auth.ClaimGrants{Identity: identity, Video: grant}).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJoinAuth(t *testing.T) {
	s := startSFU(t)
	join := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "r"} }
	expired := rawToken(t, "late", join(), time.Now().Add(-2*time.Minute))
	// Within go-jose's default one-minute leeway, past ours of a few seconds.
	justExpired := rawToken(t, "late", join(), time.Now().Add(-20*time.Second))
	noExp := rawToken(t, "forever", join(), time.Time{})
	wrongKey, _ := auth.NewAccessToken("otherkey", testSecret).SetIdentity("x").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "r"}).ToJWT()
	wrongSecret, _ := auth.NewAccessToken(testKey, "not-the-secret").SetIdentity("x").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "r"}).ToJWT()
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"valid", token(t, "ok", &auth.VideoGrant{RoomJoin: true, Room: "r"}), http.StatusOK},
		{"no token", "", http.StatusUnauthorized},
		{"garbage", "not.a.jwt", http.StatusUnauthorized},
		{"expired", expired, http.StatusUnauthorized},
		{"expired 20s ago", justExpired, http.StatusUnauthorized},
		{"no exp", noExp, http.StatusUnauthorized},
		{"raw with exp", rawToken(t, "raw", join(), time.Now().Add(time.Minute)), http.StatusOK},
		{"unknown key", wrongKey, http.StatusUnauthorized},
		{"wrong secret", wrongSecret, http.StatusUnauthorized},
		{"no roomJoin", token(t, "x", &auth.VideoGrant{Room: "r"}), http.StatusForbidden},
		{"no room", token(t, "x", &auth.VideoGrant{RoomJoin: true}), http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/rtc/validate", "/rtc/v1/validate"} {
				req, _ := http.NewRequest(http.MethodGet, httpURL(s)+path+"?auto_subscribe=1", nil)
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				if path == "/rtc/v1/validate" {
					req.URL.RawQuery = "access_token=" + tt.token + "&join_request=" // v1 without a join request
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := tt.want
				if path == "/rtc/v1/validate" && want == http.StatusOK {
					want = http.StatusBadRequest // join_request is required on v1
				}
				if resp.StatusCode != want {
					t.Errorf("%s: status %d (%s), want %d", path, resp.StatusCode, body, want)
				}
			}
			if tt.want != http.StatusOK {
				if _, code := dialRaw(t, s, tt.token, ""); code != tt.want {
					t.Errorf("/rtc upgrade: status %d, want %d", code, tt.want)
				}
			}
		})
	}
}

// TestListenerCannotPublish: a listener token (canPublish=false,
// canPublishData=false) is refused media and data, and may not change its
// own metadata; canPublishSources narrows what a publisher may send.
func TestListenerCannotPublish(t *testing.T) {
	s := startSFU(t)
	listener := &auth.VideoGrant{RoomJoin: true, Room: "party", CanPublish: ptr(false), CanPublishData: ptr(false)}

	t.Run("media refused", func(t *testing.T) {
		c, _ := dialRaw(t, s, token(t, "listener-raw", listener), "")
		if c.join.Participant.Permission.CanPublish {
			t.Fatalf("join response grants canPublish")
		}
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{
			Cid: "cam", Name: "video", Type: livekit.TrackType_VIDEO, Source: livekit.TrackSource_CAMERA}}})
		rr := c.requestResponse()
		if rr.Reason != livekit.RequestResponse_NOT_ALLOWED || rr.GetAddTrack().GetCid() != "cam" {
			t.Fatalf("add track answered %v %q for %v, want NOT_ALLOWED", rr.Reason, rr.Message, rr.GetAddTrack())
		}
	})
	t.Run("metadata refused", func(t *testing.T) {
		c, _ := dialRaw(t, s, token(t, "listener-meta", listener), "")
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{
			UpdateMetadata: &livekit.UpdateParticipantMetadata{Metadata: "x", RequestId: 7}}})
		if rr := c.requestResponse(); rr.Reason != livekit.RequestResponse_NOT_ALLOWED || rr.RequestId != 7 {
			t.Fatalf("metadata answered %v for request %d", rr.Reason, rr.RequestId)
		}
	})
	t.Run("sources narrowed", func(t *testing.T) {
		mic := &auth.VideoGrant{RoomJoin: true, Room: "party"}
		mic.SetCanPublishSources([]livekit.TrackSource{livekit.TrackSource_MICROPHONE})
		c, _ := dialRaw(t, s, token(t, "mic-only", mic), "")
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{
			Cid: "cam", Type: livekit.TrackType_VIDEO, Source: livekit.TrackSource_CAMERA}}})
		if rr := c.requestResponse(); rr.Reason != livekit.RequestResponse_NOT_ALLOWED {
			t.Fatalf("camera answered %v", rr.Reason)
		}
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{
			Cid: "mic", Type: livekit.TrackType_AUDIO, Source: livekit.TrackSource_MICROPHONE}}})
		pub := c.next(func(r *livekit.SignalResponse) bool { return r.GetTrackPublished() != nil }).GetTrackPublished()
		if pub.Cid != "mic" || pub.Track.GetSid() == "" {
			t.Fatalf("microphone published as %v", pub)
		}
	})
	t.Run("subscribe refused without canSubscribe", func(t *testing.T) {
		c, _ := dialRaw(t, s, token(t, "blind", &auth.VideoGrant{RoomJoin: true, Room: "party", CanSubscribe: ptr(false)}), "")
		if c.join.SubscriberPrimary {
			t.Errorf("subscriber_primary set for a participant that cannot subscribe")
		}
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Subscription{Subscription: &livekit.UpdateSubscription{
			TrackSids: []string{"TR_x"}, Subscribe: true}}})
		if rr := c.requestResponse(); rr.Reason == livekit.RequestResponse_OK {
			t.Fatalf("subscription accepted")
		}
	})
	t.Run("data refused", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		viewRec := &sdkRecorder{}
		joinSDK(t, s, "host", &auth.VideoGrant{RoomJoin: true, Room: "data-room"}, viewRec.callback())
		lis := joinSDK(t, s, "listener-sdk", &auth.VideoGrant{RoomJoin: true, Room: "data-room",
			CanPublish: ptr(false), CanPublishData: ptr(false)}, lksdk.NewRoomCallback())
		before := counter(t, s.reg, "marquee_sfu_data_packets_refused_total")
		if err := lis.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: []byte("spam"), Topic: "marquee.chat"},
			lksdk.WithDataPublishReliable(true)); err != nil {
			t.Fatalf("publish data: %v", err)
		}
		eventually(t, ctx, "the server to refuse the packet", func() bool {
			return counter(t, s.reg, "marquee_sfu_data_packets_refused_total") > before
		})
		// The refusal is counted where the packet would have been relayed,
		// so by now it is settled: nothing reached the host.
		if _, _, d := viewRec.snapshot(); d != 0 {
			t.Fatalf("host received %d data packets from a listener", d)
		}
	})
}

// TestHiddenParticipant: a hidden participant is not listed to others but
// the RoomService still sees it.
func TestHiddenParticipant(t *testing.T) {
	s := startSFU(t)
	dialRaw(t, s, token(t, "recorder", &auth.VideoGrant{RoomJoin: true, Room: "h", Hidden: true}), "")
	c, _ := dialRaw(t, s, token(t, "guest", &auth.VideoGrant{RoomJoin: true, Room: "h"}), "")
	for _, p := range c.join.OtherParticipants {
		if p.Identity == "recorder" {
			t.Fatalf("hidden participant listed to a guest")
		}
	}
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	res, err := rs.ListParticipants(context.Background(), &livekit.ListParticipantsRequest{Room: "h"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Participants) != 2 {
		t.Fatalf("admin sees %d participants, want 2", len(res.Participants))
	}
}

// TestMalformedSignal: undecodable and out-of-order messages get an error
// response on that connection only; it and the room keep working.
func TestMalformedSignal(t *testing.T) {
	s := startSFU(t)
	grant := &auth.VideoGrant{RoomJoin: true, Room: "m"}
	other, _ := dialRaw(t, s, token(t, "bystander", grant), "")
	c, _ := dialRaw(t, s, token(t, "fuzzer", grant), "")
	bad := []struct {
		name string
		send func()
	}{
		{"garbage bytes", func() { c.sendRaw(websocket.MessageBinary, []byte{0xff, 0x01, 0x02, 0x03}) }},
		{"bad json", func() { c.sendRaw(websocket.MessageText, []byte(`{"offer":`)) }},
		{"empty message", func() { c.send(&livekit.SignalRequest{}) }},
		{"answer with no offer", func() {
			c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Answer{Answer: &livekit.SessionDescription{Type: "answer", Sdp: "v=0"}}})
		}},
		{"bad offer sdp", func() {
			c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Offer{Offer: &livekit.SessionDescription{Type: "offer", Sdp: "nonsense"}}})
		}},
		{"bad candidate", func() {
			c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Trickle{Trickle: &livekit.TrickleRequest{CandidateInit: "{not json"}}})
		}},
		{"mute unknown track", func() {
			c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Mute{Mute: &livekit.MuteTrackRequest{Sid: "TR_nope", Muted: true}}})
		}},
	}
	for i, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			b.send()
			if rr := c.requestResponse(); rr.Reason == livekit.RequestResponse_OK {
				t.Fatalf("accepted")
			}
			c.ping(int64(100 + i))
		})
	}
	other.ping(1)
	if n := counter(t, s.reg, "marquee_sfu_signal_errors_total"); n < float64(len(bad)) {
		t.Errorf("signal errors counted %v, want ≥ %d", n, len(bad))
	}
}

// TestRoomLifecycle: a client that vanishes without a leave is dropped
// after the resume grace, and the emptied room closes after its timeout.
func TestRoomLifecycle(t *testing.T) {
	s := startSFU(t, func(c *rooms.Config) {
		c.ReconnectGrace = 100 * time.Millisecond
		c.EmptyTimeout = time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _ := dialRaw(t, s, token(t, "ghost", &auth.VideoGrant{RoomJoin: true, Room: "brief"}), "")
	if got := counter(t, s.reg, "marquee_sfu_rooms"); got != 1 {
		t.Fatalf("rooms = %v, want 1", got)
	}
	_ = c.ws.CloseNow()
	eventually(t, ctx, "participant dropped", func() bool { return counter(t, s.reg, "marquee_sfu_participants") == 0 })
	eventually(t, ctx, "room closed", func() bool { return counter(t, s.reg, "marquee_sfu_rooms") == 0 })
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	if list, err := rs.ListRooms(ctx, &livekit.ListRoomsRequest{}); err != nil || len(list.Rooms) != 0 {
		t.Fatalf("ListRooms = %v, %v", list, err)
	}
}

// TestDataDestinations: a packet naming destination identities reaches
// only them.
func TestDataDestinations(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "dm"} }
	alice, bob := &sdkRecorder{}, &sdkRecorder{}
	joinSDK(t, s, "alice", grant(), alice.callback())
	joinSDK(t, s, "bob", grant(), bob.callback())
	sender := joinSDK(t, s, "host", grant(), lksdk.NewRoomCallback())
	send := func(payload string, to []string) {
		if err := sender.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: []byte(payload)},
			lksdk.WithDataPublishReliable(true), lksdk.WithDataPublishDestination(to)); err != nil {
			t.Fatal(err)
		}
	}
	send("for alice", []string{"alice"})
	send("for all", nil)
	// Reliable packets from one sender arrive in order, so once bob has the
	// broadcast he would also have had the first one.
	eventually(t, ctx, "bob gets the broadcast", func() bool { _, _, d := bob.snapshot(); return d == 1 })
	eventually(t, ctx, "alice gets both", func() bool { _, _, d := alice.snapshot(); return d == 2 })
	bob.mu.Lock()
	defer bob.mu.Unlock()
	if string(bob.data[0].Payload) != "for all" {
		t.Fatalf("bob got %q", bob.data[0].Payload)
	}
}

// TestLossyData: packets sent on the lossy channel are relayed on the
// recipients' lossy channel (counted by kind).
func TestLossyData(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "lossy"} }
	rec := &sdkRecorder{}
	joinSDK(t, s, "viewer", grant(), rec.callback())
	sender := joinSDK(t, s, "host", grant(), lksdk.NewRoomCallback())
	// Lossy may drop, so send until one arrives.
	eventually(t, ctx, "a lossy packet", func() bool {
		_ = sender.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Payload: []byte("reaction"),
			Topic: "marquee.reaction"}, lksdk.WithDataPublishReliable(false))
		_, _, d := rec.snapshot()
		return d > 0
	})
	if n := labelled(t, s, "marquee_sfu_data_packets_total", "kind", "lossy"); n < 1 {
		t.Fatalf("lossy relays counted %v", n)
	}
	if n := labelled(t, s, "marquee_sfu_data_packets_total", "kind", "reliable"); n != 0 {
		t.Fatalf("reliable relays counted %v, want 0", n)
	}
}

// labelled reads one labelled series of a counter.
func labelled(t *testing.T, s *sfu, name, label, value string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestSilentClientDropped: a client that stops answering WebSocket pings
// (a vanished laptop) loses its signal connection and, after the resume
// grace, its place in the room.
func TestSilentClientDropped(t *testing.T) {
	s := startSFU(t, func(c *rooms.Config) {
		c.SignalKeepalive = time.Second
		c.ReconnectGrace = 100 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// dialRaw reads the join response, then nothing reads this socket
	// again, so the client never answers a ping.
	dialRaw(t, s, token(t, "laptop", &auth.VideoGrant{RoomJoin: true, Room: "silent"}), "")
	if n := counter(t, s.reg, "marquee_sfu_participants"); n != 1 {
		t.Fatalf("participants = %v", n)
	}
	eventually(t, ctx, "the silent client dropped", func() bool { return counter(t, s.reg, "marquee_sfu_participants") == 0 })
}

// TestJSONSignal: a client that speaks protojson text frames is answered
// in JSON (livekit_rtc.proto's JSON mapping).
func TestJSONSignal(t *testing.T) {
	s := startSFU(t)
	c, _ := dialRaw(t, s, token(t, "json", &auth.VideoGrant{RoomJoin: true, Room: "json"}), "")
	c.sendRaw(websocket.MessageText, []byte(`{"pingReq":{"timestamp":"42"}}`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if typ == websocket.MessageText && strings.Contains(string(b), `"pongResp"`) {
			if !strings.Contains(string(b), `"lastPingTimestamp":"42"`) {
				t.Fatalf("pong %s", b)
			}
			return
		}
	}
}

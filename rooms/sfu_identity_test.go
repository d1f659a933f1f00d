package rooms_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"google.golang.org/protobuf/proto"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// partyToken mints what the API mints for a party member (party.MintToken):
// a role attribute and metadata in the token, and canUpdateOwnMetadata as
// given.
func partyToken(t *testing.T, identity, room, role string, mayUpdate bool) string {
	t.Helper()
	g := &auth.VideoGrant{RoomJoin: true, Room: room}
	g.SetCanSubscribe(true)
	g.SetCanPublish(false)
	g.SetCanPublishData(true)
	g.SetCanUpdateOwnMetadata(mayUpdate)
	tok, err := auth.NewAccessToken(testKey, testSecret).SetIdentity(identity).SetName(identity).
		SetVideoGrant(g).SetMetadata(`{"userId":7}`).SetValidFor(time.Hour).
		SetAttributes(map[string]string{roomconv.AttrRole: role}).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dialRawV1 joins /rtc/v1 with a JoinRequest (wrapped, not compressed).
func dialRawV1(t *testing.T, s *sfu, tok string, req *livekit.JoinRequest) *rawClient {
	t.Helper()
	inner, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := proto.Marshal(&livekit.WrappedJoinRequest{JoinRequest: inner})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.url+"/rtc/v1?join_request="+base64.RawURLEncoding.EncodeToString(outer),
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": []string{"Bearer " + tok}}})
	if err != nil {
		t.Fatalf("dial /rtc/v1: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	c := &rawClient{t: t, ws: ws}
	c.join = c.next(func(*livekit.SignalResponse) bool { return true }).GetJoin()
	if c.join == nil {
		t.Fatal("first message is not a join response")
	}
	return c
}

// participantInfo reads a participant as the RoomService sees it.
func participantInfo(t *testing.T, s *sfu, room, identity string) *livekit.ParticipantInfo {
	t.Helper()
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	p, err := rs.GetParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestListenerCannotClaimIngest: a listener's join request (server-sdk-go's
// ?attributes= and ?metadata=, or /rtc/v1's participant_attributes) and its
// later metadata updates cannot override its token: others keep seeing
// marquee.role=listener and the token's metadata (issue #13.1).
func TestListenerCannotClaimIngest(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watcher, _ := dialRaw(t, s, partyToken(t, "user-1", "party", "host", false), "")
	claim := map[string]string{roomconv.AttrRole: roomconv.RoleIngest}

	attacker, err := lksdk.ConnectToRoomWithToken(s.url, partyToken(t, "user-2", "party", "listener", false),
		lksdk.NewRoomCallback(), lksdk.WithExtraAttributes(claim), lksdk.WithMetadata("forged"))
	if err != nil {
		t.Fatal(err)
	}
	defer attacker.Disconnect()
	seen := watcher.next(func(r *livekit.SignalResponse) bool {
		for _, p := range r.GetUpdate().GetParticipants() {
			if p.Identity == "user-2" {
				return true
			}
		}
		return false
	}).GetUpdate().Participants[0]
	if seen.Attributes[roomconv.AttrRole] != "listener" || seen.Metadata != `{"userId":7}` {
		t.Fatalf("others see the listener as role %q, metadata %q", seen.Attributes[roomconv.AttrRole], seen.Metadata)
	}

	// A later update is refused too (no canUpdateOwnMetadata).
	before := labelled(t, s, "marquee_sfu_permission_denied_total", "action", "metadata")
	attacker.LocalParticipant.SetAttributes(claim)
	eventually(t, ctx, "the update refused", func() bool {
		return labelled(t, s, "marquee_sfu_permission_denied_total", "action", "metadata") > before
	})
	if got := participantInfo(t, s, "party", "user-2").Attributes[roomconv.AttrRole]; got != "listener" {
		t.Fatalf("after SetAttributes the listener's role is %q", got)
	}

	// /rtc/v1 carries the claim in the JoinRequest itself.
	v1 := dialRawV1(t, s, partyToken(t, "user-3", "party", "listener", false), &livekit.JoinRequest{
		ParticipantAttributes: claim, Metadata: "forged",
		ConnectionSettings: &livekit.ConnectionSettings{AutoSubscribe: true}})
	if p := v1.join.Participant; p.Attributes[roomconv.AttrRole] != "listener" || p.Metadata != `{"userId":7}` {
		t.Fatalf("/rtc/v1 join: role %q, metadata %q", p.Attributes[roomconv.AttrRole], p.Metadata)
	}
}

// TestRoleIsTokenOnly: even with canUpdateOwnMetadata, a participant's own
// join request and updates may set other attributes but not marquee.role;
// a RoomService admin still may (the party service hands off the host so).
func TestRoleIsTokenOnly(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _ := dialRaw(t, s, partyToken(t, "user-5", "r", "host", true),
		"metadata=mine&attributes="+base64.URLEncoding.EncodeToString([]byte(`{"marquee.role":"ingest","seat":"front"}`)))
	p := c.join.Participant
	if p.Attributes[roomconv.AttrRole] != "host" || p.Attributes["seat"] != "front" || p.Metadata != "mine" {
		t.Fatalf("joined with attributes %v, metadata %q", p.Attributes, p.Metadata)
	}
	for i, attrs := range []map[string]string{{roomconv.AttrRole: roomconv.RoleIngest}, {roomconv.AttrRole: ""}} {
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{
			Attributes: attrs, RequestId: uint32(10 + i)}}})
		if rr := c.requestResponse(); rr.Reason != livekit.RequestResponse_NOT_ALLOWED || rr.RequestId != uint32(10+i) {
			t.Fatalf("update %v answered %v %q", attrs, rr.Reason, rr.Message)
		}
	}
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{
		Attributes: map[string]string{"seat": "back"}, RequestId: 20}}})
	if rr := c.requestResponse(); rr.Reason != livekit.RequestResponse_OK {
		t.Fatalf("a plain attribute update answered %v %q", rr.Reason, rr.Message)
	}
	if got := participantInfo(t, s, "r", "user-5").Attributes; got[roomconv.AttrRole] != "host" || got["seat"] != "back" {
		t.Fatalf("attributes now %v", got)
	}
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	info, err := rs.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: "r", Identity: "user-5",
		Attributes: map[string]string{roomconv.AttrRole: "cohost"}})
	if err != nil || info.Attributes[roomconv.AttrRole] != "cohost" {
		t.Fatalf("admin role change: %v, %v", info, err)
	}
}

package rooms_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/twitchtv/twirp"
)

// TestRoomService drives every supported RoomService call through
// server-sdk-go's RoomServiceClient (Twirp, protobuf) against a room with a
// live server-sdk-go participant.
func TestRoomService(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)

	room, err := rs.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: "lobby", Metadata: `{"title":"Alien"}`, EmptyTimeout: 60})
	if err != nil {
		t.Fatal(err)
	}
	if room.Name != "lobby" || room.Sid == "" || room.Metadata != `{"title":"Alien"}` {
		t.Fatalf("created %v", room)
	}

	var mu = make(chan struct{}, 16)
	rec := &sdkRecorder{}
	cb := rec.callback()
	cb.OnRoomMetadataChanged = func(string) { mu <- struct{}{} }
	guest := joinSDK(t, s, "guest", &auth.VideoGrant{RoomJoin: true, Room: "lobby"}, cb)
	if guest.Metadata() != `{"title":"Alien"}` {
		t.Errorf("guest sees room metadata %q", guest.Metadata())
	}

	list, err := rs.ListRooms(ctx, &livekit.ListRoomsRequest{})
	if err != nil || len(list.Rooms) != 1 || list.Rooms[0].NumParticipants != 1 {
		t.Fatalf("ListRooms = %v, %v", list, err)
	}
	parts, err := rs.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: "lobby"})
	if err != nil || len(parts.Participants) != 1 || parts.Participants[0].Identity != "guest" {
		t.Fatalf("ListParticipants = %v, %v", parts, err)
	}

	info, err := rs.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: "lobby", Identity: "guest",
		Metadata: "vip", Attributes: map[string]string{"marquee.seat": "front"},
		Permission: &livekit.ParticipantPermission{CanSubscribe: true, CanPublishData: true}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Metadata != "vip" || info.Attributes["marquee.seat"] != "front" || info.Permission.CanPublish {
		t.Fatalf("UpdateParticipant = %v", info)
	}
	eventually(t, ctx, "guest sees its new attributes", func() bool {
		return guest.LocalParticipant.Attributes()["marquee.seat"] == "front"
	})
	got, err := rs.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: "lobby", Identity: "guest"})
	if err != nil || got.Metadata != "vip" {
		t.Fatalf("GetParticipant = %v, %v", got, err)
	}

	if _, err := rs.UpdateRoomMetadata(ctx, &livekit.UpdateRoomMetadataRequest{Room: "lobby", Metadata: "paused"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "guest sees room metadata", func() bool { return guest.Metadata() == "paused" })

	if _, err := rs.SendData(ctx, &livekit.SendDataRequest{Room: "lobby", Data: []byte("from api"),
		Kind: livekit.DataPacket_RELIABLE, Topic: ptr("marquee.sync"), DestinationIdentities: []string{"guest"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "guest receives api data", func() bool { _, _, d := rec.snapshot(); return d > 0 })

	_, err = rs.MutePublishedTrack(ctx, &livekit.MuteRoomTrackRequest{Room: "lobby", Identity: "guest", TrackSid: "TR_none", Muted: true})
	var terr twirp.Error
	if !errors.As(err, &terr) || terr.Code() != twirp.NotFound {
		t.Errorf("mute unknown track: %v, want not_found", err)
	}
	_, err = rs.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: "lobby", Identity: "nobody"})
	if !errors.As(err, &terr) || terr.Code() != twirp.NotFound {
		t.Errorf("get unknown participant: %v, want not_found", err)
	}

	if _, err := rs.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: "lobby", Identity: "guest"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "room empties", func() bool {
		p, err := rs.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: "lobby"})
		return err == nil && len(p.Participants) == 0
	})
	if _, err := rs.DeleteRoom(ctx, &livekit.DeleteRoomRequest{Room: "lobby"}); err != nil {
		t.Fatal(err)
	}
	if list, _ := rs.ListRooms(ctx, &livekit.ListRoomsRequest{}); len(list.GetRooms()) != 0 {
		t.Fatalf("rooms after delete: %v", list.Rooms)
	}
}

// TestRoomServiceGrantsAndJSON: Twirp's JSON content type works, and each
// call needs its grant (roomList, roomCreate, roomAdmin on that room).
func TestRoomServiceGrantsAndJSON(t *testing.T) {
	s := startSFU(t)
	call := func(method, body string, grant *auth.VideoGrant) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, httpURL(s)+"/twirp/livekit.RoomService/"+method, bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		if grant != nil {
			req.Header.Set("Authorization", "Bearer "+token(t, "api", grant))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, method, body string
		grant              *auth.VideoGrant
		status             int
		contains           string
	}{
		{"create with roomCreate", "CreateRoom", `{"name":"json-room"}`, &auth.VideoGrant{RoomCreate: true}, 200, `"name":"json-room"`},
		{"list with roomList", "ListRooms", `{}`, &auth.VideoGrant{RoomList: true}, 200, `json-room`},
		{"no token", "ListRooms", `{}`, nil, 401, "unauthenticated"},
		{"list without roomList", "ListRooms", `{}`, &auth.VideoGrant{RoomCreate: true}, 403, "permission_denied"},
		{"create without roomCreate", "CreateRoom", `{"name":"x"}`, &auth.VideoGrant{RoomList: true}, 403, "permission_denied"},
		{"admin of another room", "ListParticipants", `{"room":"json-room"}`, &auth.VideoGrant{RoomAdmin: true, Room: "other"}, 403, "permission_denied"},
		{"admin of the room", "ListParticipants", `{"room":"json-room"}`, &auth.VideoGrant{RoomAdmin: true, Room: "json-room"}, 200, `{`},
		{"joiner is no admin", "SendData", `{"room":"json-room"}`, &auth.VideoGrant{RoomJoin: true, Room: "json-room"}, 403, "permission_denied"},
		{"unknown room", "ListParticipants", `{"room":"nope"}`, &auth.VideoGrant{RoomAdmin: true}, 404, "not_found"},
		{"unsupported", "MoveParticipant", `{"room":"json-room"}`, &auth.VideoGrant{RoomAdmin: true}, 501, "unimplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(tt.method, tt.body, tt.grant)
			if code != tt.status || !strings.Contains(body, tt.contains) {
				t.Fatalf("%s: %d %s, want %d containing %q", tt.method, code, body, tt.status, tt.contains)
			}
		})
	}
}

// TestDeleteRoomDisconnects: deleting a room tells its participants why.
func TestDeleteRoomDisconnects(t *testing.T) {
	s := startSFU(t)
	c, _ := dialRaw(t, s, token(t, "guest", &auth.VideoGrant{RoomJoin: true, Room: "doomed"}), "")
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	if _, err := rs.DeleteRoom(context.Background(), &livekit.DeleteRoomRequest{Room: "doomed"}); err != nil {
		t.Fatal(err)
	}
	leave := c.next(func(r *livekit.SignalResponse) bool { return r.GetLeave() != nil }).GetLeave()
	if leave.Reason != livekit.DisconnectReason_ROOM_DELETED || leave.Action != livekit.LeaveRequest_DISCONNECT {
		t.Fatalf("leave %v", leave)
	}
}

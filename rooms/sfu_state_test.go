package rooms_test

import (
	"context"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// TestParticipantBecomesActive: once a participant's transport is up it is
// ACTIVE, as LiveKit reports it, both to the RoomService and in the
// ParticipantUpdate the others receive (issue #12.11, found by `lk`).
func TestParticipantBecomesActive(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "state"} }
	watcher, _ := dialRaw(t, s, token(t, "watcher", grant()), "") // no transport: stays JOINED
	joinSDK(t, s, "viewer", grant(), lksdk.NewRoomCallback())
	watcher.next(func(r *livekit.SignalResponse) bool {
		for _, p := range r.GetUpdate().GetParticipants() {
			if p.Identity == "viewer" && p.State == livekit.ParticipantInfo_ACTIVE {
				return true
			}
		}
		return false
	})
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	list, err := rs.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: "state"})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]livekit.ParticipantInfo_State{}
	for _, p := range list.Participants {
		states[p.Identity] = p.State
	}
	if states["viewer"] != livekit.ParticipantInfo_ACTIVE || states["watcher"] != livekit.ParticipantInfo_JOINED {
		t.Fatalf("ListParticipants states %v", states)
	}
}

// TestCreateRoomFields: CreateRoom answers with the departure timeout and
// the enabled codecs, as LiveKit does.
func TestCreateRoomFields(t *testing.T) {
	s := startSFU(t)
	ctx := context.Background()
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	room, err := rs.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: "fields", EmptyTimeout: 600, DepartureTimeout: 30})
	if err != nil {
		t.Fatal(err)
	}
	if room.EmptyTimeout != 600 || room.DepartureTimeout != 30 {
		t.Fatalf("timeouts %d/%d, want 600/30", room.EmptyTimeout, room.DepartureTimeout)
	}
	mimes := map[string]bool{}
	for _, c := range room.EnabledCodecs {
		mimes[c.Mime] = true
	}
	if !mimes["video/VP8"] || !mimes["audio/opus"] {
		t.Fatalf("enabled codecs %v", room.EnabledCodecs)
	}
	// Unasked, the departure timeout is the empty timeout.
	room, err = rs.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: "defaults", EmptyTimeout: 600})
	if err != nil || room.DepartureTimeout != 600 {
		t.Fatalf("default departure timeout: %v, %v", room, err)
	}
}

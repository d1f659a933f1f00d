package rooms_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/twitchtv/twirp"

	"github.com/marquee-party/marquee/rooms"
)

// validate asks /rtc/validate about a join and returns status and body.
func validate(t *testing.T, s *sfu, tok, query string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, httpURL(s)+"/rtc/validate?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestJoinSizeLimits: a join whose metadata, attributes, name, identity or
// room name is over LiveKit's default limits is refused before the
// upgrade, says which, and is counted (issue #13.4: 100 joins of 900 KB
// metadata grew the SFU by 160 MB).
func TestJoinSizeLimits(t *testing.T) {
	s := startSFU(t)
	may := func(id string) string { return partyToken(t, id, "big", "host", true) }
	big := strings.Repeat("x", 64001)
	bigAttrs := base64.URLEncoding.EncodeToString([]byte(`{"k":"` + big + `"}`))
	long := strings.Repeat("n", 257)
	longName, err := auth.NewAccessToken(testKey, testSecret).SetIdentity("n").SetName(long).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "big"}).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tok, query, what string
	}{
		{"metadata", may("m"), "metadata=" + big, "metadata"},
		{"attributes", may("a"), "attributes=" + bigAttrs, "attributes"},
		{"name", longName, "", "name"},
		{"identity", token(t, long, &auth.VideoGrant{RoomJoin: true, Room: "big"}), "", "identity"},
		{"room name", token(t, "r", &auth.VideoGrant{RoomJoin: true, Room: long}), "", "room_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := validate(t, s, tt.tok, tt.query)
			if code != http.StatusBadRequest || !strings.Contains(body, "limit") {
				t.Fatalf("validate: status %d %q, want 400 naming the limit", code, body)
			}
			before := labelled(t, s, "marquee_sfu_limit_refusals_total", "what", tt.what)
			if _, code := dialRaw(t, s, tt.tok, tt.query); code != http.StatusBadRequest {
				t.Fatalf("upgrade: status %d, want 400", code)
			}
			if n := labelled(t, s, "marquee_sfu_limit_refusals_total", "what", tt.what); n != before+1 {
				t.Fatalf("refusals of %s counted %v, want %v", tt.what, n, before+1)
			}
		})
	}
}

// TestUpdateSizeLimits: own updates and RoomService updates over the limits
// are refused whole with a clear error; the participant keeps its state.
func TestUpdateSizeLimits(t *testing.T) {
	s := startSFU(t, func(c *rooms.Config) {
		c.Limit.MaxMetadataSize, c.Limit.MaxAttributesSize, c.Limit.MaxParticipantNameLength = 100, 100, 10
	})
	c, _ := dialRaw(t, s, partyToken(t, "user-1", "caps", "host", true), "")
	updates := []*livekit.UpdateParticipantMetadata{
		{Metadata: strings.Repeat("m", 101)},
		{Name: strings.Repeat("n", 11)},
		{Attributes: map[string]string{"a": strings.Repeat("v", 60), "b": strings.Repeat("v", 60)}},
	}
	for i, u := range updates {
		u.RequestId = uint32(i + 1)
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: u}})
		rr := c.requestResponse()
		if rr.Reason != livekit.RequestResponse_LIMIT_EXCEEDED || rr.RequestId != u.RequestId || !strings.Contains(rr.Message, "limit") {
			t.Fatalf("update %d answered %v %q", i, rr.Reason, rr.Message)
		}
	}
	// Attributes accumulate: two updates that each fit may not together.
	for i, v := range []string{strings.Repeat("v", 60), strings.Repeat("w", 60)} {
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{
			Attributes: map[string]string{string(rune('c' + i)): v}, RequestId: uint32(10 + i)}}})
		want := livekit.RequestResponse_OK
		if i == 1 {
			want = livekit.RequestResponse_LIMIT_EXCEEDED
		}
		if rr := c.requestResponse(); rr.Reason != want {
			t.Fatalf("accumulating update %d answered %v %q", i, rr.Reason, rr.Message)
		}
	}
	p := participantInfo(t, s, "caps", "user-1")
	if p.Metadata != `{"userId":7}` || p.Name != "user-1" || p.Attributes["d"] != "" || p.Attributes["c"] == "" {
		t.Fatalf("state after refusals: name %q metadata %q attributes %v", p.Name, p.Metadata, p.Attributes)
	}
	if n := counter(t, s.reg, "marquee_sfu_limit_refusals_total"); n != 4 {
		t.Fatalf("refusals counted %v, want 4", n)
	}

	ctx := context.Background()
	rs := lksdk.NewRoomServiceClient(httpURL(s), testKey, testSecret)
	_, err := rs.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: "caps", Identity: "user-1",
		Metadata: strings.Repeat("m", 101), Permission: &livekit.ParticipantPermission{}})
	requireTwirp(t, err, twirp.InvalidArgument)
	if p := participantInfo(t, s, "caps", "user-1"); !p.Permission.CanSubscribe {
		t.Fatalf("a refused update still changed the permission")
	}
	_, err = rs.UpdateRoomMetadata(ctx, &livekit.UpdateRoomMetadataRequest{Room: "caps", Metadata: strings.Repeat("m", 101)})
	requireTwirp(t, err, twirp.InvalidArgument)
	_, err = rs.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: strings.Repeat("r", 257)})
	requireTwirp(t, err, twirp.InvalidArgument)
}

func requireTwirp(t *testing.T, err error, code twirp.ErrorCode) {
	t.Helper()
	var te twirp.Error
	if !errors.As(err, &te) || te.Code() != code || !strings.Contains(te.Msg(), "limit") {
		t.Fatalf("error %v, want twirp %s naming the limit", err, code)
	}
}

// joinRefused dials /rtc and expects the join to be refused after the
// upgrade (a leave as first message).
func joinRefused(t *testing.T, s *sfu, tok string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.url+"/rtc?auto_subscribe=1",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": []string{"Bearer " + tok}}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	c := &rawClient{t: t, ws: ws}
	first := c.next(func(*livekit.SignalResponse) bool { return true })
	if l := first.GetLeave(); l != nil {
		if l.Reason != livekit.DisconnectReason_JOIN_FAILURE {
			t.Fatalf("refused with %v", l.Reason)
		}
		return true
	}
	if first.GetJoin() == nil {
		t.Fatalf("first message %T", first.Message)
	}
	return false
}

// TestJoinRateLimits: joins beyond the burst, per identity and per room,
// are refused and counted. The refill rate is set so low that no token
// comes back during the test.
func TestJoinRateLimits(t *testing.T) {
	s := startSFU(t, func(c *rooms.Config) {
		c.Limit.JoinsPerSecondPerParticipant, c.Limit.JoinBurstPerParticipant = 1e-6, 2
		c.Limit.JoinsPerSecondPerRoom, c.Limit.JoinBurstPerRoom = 1e-6, 4
	})
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "busy"} }
	for i, want := range []bool{false, false, true} {
		if got := joinRefused(t, s, token(t, "again", grant())); got != want {
			t.Fatalf("join %d of one identity: refused=%v", i, got)
		}
	}
	// The room's bucket took 2 of its 4 (the refused one took none).
	for i, want := range []bool{false, false, true} {
		if got := joinRefused(t, s, token(t, "guest"+string(rune('a'+i)), grant())); got != want {
			t.Fatalf("join %d of another identity: refused=%v", i, got)
		}
	}
	if n := labelled(t, s, "marquee_sfu_limit_refusals_total", "what", "join_rate"); n != 2 {
		t.Fatalf("join refusals counted %v, want 2", n)
	}
	// Another room has its own bucket.
	if joinRefused(t, s, token(t, "elsewhere", &auth.VideoGrant{RoomJoin: true, Room: "quiet"})) {
		t.Fatal("a join to another room was refused")
	}
}

// TestMetadataRateLimits: own metadata updates beyond the participant's
// burst, or the room's, are answered LIMIT_EXCEEDED.
func TestMetadataRateLimits(t *testing.T) {
	s := startSFU(t, func(c *rooms.Config) {
		c.Limit.MetadataPerSecondPerParticipant, c.Limit.MetadataBurstPerParticipant = 1e-6, 2
		c.Limit.MetadataPerSecondPerRoom, c.Limit.MetadataBurstPerRoom = 1e-6, 3
	})
	a, _ := dialRaw(t, s, partyToken(t, "user-a", "chatty", "host", true), "")
	b, _ := dialRaw(t, s, partyToken(t, "user-b", "chatty", "host", true), "")
	steps := []struct {
		c    *rawClient
		want livekit.RequestResponse_Reason
	}{
		{a, livekit.RequestResponse_OK}, {a, livekit.RequestResponse_OK},
		{a, livekit.RequestResponse_LIMIT_EXCEEDED}, // a's own burst
		{b, livekit.RequestResponse_OK},
		{b, livekit.RequestResponse_LIMIT_EXCEEDED}, // the room's burst
	}
	for i, st := range steps {
		st.c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{
			Metadata: "m" + string(rune('0'+i)), RequestId: uint32(i + 1)}}})
		if rr := st.c.requestResponse(); rr.Reason != st.want || rr.RequestId != uint32(i+1) {
			t.Fatalf("update %d answered %v %q, want %v", i, rr.Reason, rr.Message, st.want)
		}
	}
	if n := labelled(t, s, "marquee_sfu_limit_refusals_total", "what", "metadata_rate"); n != 2 {
		t.Fatalf("metadata rate refusals counted %v, want 2", n)
	}
}

// TestLimitConfigValidate: each limit must be positive, and the error
// names its key.
func TestLimitConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		key    string
		mutate func(*rooms.LimitConfig)
	}{
		{"limit.max_metadata_size", func(l *rooms.LimitConfig) { l.MaxMetadataSize = 0 }},
		{"limit.joins_per_second_per_room", func(l *rooms.LimitConfig) { l.JoinsPerSecondPerRoom = -1 }},
		{"limit.metadata_update_burst_per_room", func(l *rooms.LimitConfig) { l.MetadataBurstPerRoom = 0 }},
	} {
		c := rooms.DefaultConfig()
		c.ApplyDev()
		tt.mutate(&c.Limit)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: error %v", tt.key, err)
		}
	}
	if d := rooms.DefaultLimits(); d.MaxMetadataSize != 64000 || d.MaxAttributesSize != 64000 ||
		d.MaxParticipantNameLength != 256 || d.MaxRoomNameLength != 256 {
		t.Fatalf("defaults %+v differ from LiveKit's", d)
	}
}

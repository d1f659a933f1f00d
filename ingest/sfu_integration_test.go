package ingest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/internal/roomconv"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/rooms/roomstest"
)

const (
	sfuKey    = roomstest.Key
	sfuSecret = roomstest.Secret
)

// viewer is a server-sdk-go subscriber that validates what it receives.
type viewer struct {
	t          *testing.T
	mu         sync.Mutex
	keyframes  int // complete VP8 keyframes with a valid header
	vp8Frames  int
	noPicID    int // VP8 packets without a PictureID
	opus       int // Opus packets with a valid 20 ms stereo TOC
	badOpus    int
	playback   []ingest.PlaybackMessage
	trackNames []string
	wg         sync.WaitGroup
}

func (v *viewer) callback() *lksdk.RoomCallback {
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		v.mu.Lock()
		v.trackNames = append(v.trackNames, pub.Name())
		v.mu.Unlock()
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			if track.Kind() == webrtc.RTPCodecTypeVideo {
				v.readVP8(track)
			} else {
				v.readOpus(track)
			}
		}()
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		ud, ok := data.(*lksdk.UserDataPacket)
		if !ok || ud.Topic != roomconv.TopicPlayback {
			return
		}
		var m ingest.PlaybackMessage
		if err := json.Unmarshal(ud.Payload, &m); err != nil {
			v.t.Errorf("bad playback message %q: %v", ud.Payload, err)
			return
		}
		v.mu.Lock()
		v.playback = append(v.playback, m)
		v.mu.Unlock()
	}
	return cb
}

// readVP8 reassembles frames (RFC 7741 §4) and checks keyframe headers
// (RFC 6386 §9.1).
func (v *viewer) readVP8(track *webrtc.TrackRemote) {
	var frame []byte
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		var d codecs.VP8Packet
		body, err := d.Unmarshal(pkt.Payload)
		if err != nil {
			continue
		}
		v.mu.Lock()
		if d.I == 0 {
			v.noPicID++
		}
		v.mu.Unlock()
		if d.S == 1 && d.PID == 0 {
			frame = frame[:0]
		}
		frame = append(frame, body...)
		if !pkt.Marker || len(frame) < 10 {
			continue
		}
		v.mu.Lock()
		v.vp8Frames++
		if frame[0]&1 == 0 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a {
			v.keyframes++
		}
		v.mu.Unlock()
		frame = frame[:0]
	}
}

// readOpus checks each packet's TOC byte (RFC 6716 §3.1): one 20 ms
// frame, stereo.
func (v *viewer) readOpus(track *webrtc.TrackRemote) {
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if len(pkt.Payload) == 0 {
			continue
		}
		toc := pkt.Payload[0]
		config := toc >> 3
		ok := toc&0x4 != 0 && toc&3 == 0 && (config >= 16 && config%4 == 3 || config < 12 && config%4 == 1 || config >= 12 && config < 16 && config%2 == 1)
		v.mu.Lock()
		if ok {
			v.opus++
		} else {
			v.badOpus++
		}
		v.mu.Unlock()
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishIntoSFU(t *testing.T) {
	url := roomstest.Start(t, roomstest.Options{}).URL
	mp4 := testmedia.Generate(t, testmedia.H264AAC)
	cfg := ingest.DefaultConfig()
	cfg.Secret = "integration-secret"
	cfg.MediaRoots = []string{filepath.Dir(mp4)}
	srv, err := ingest.New(ingest.Params{
		Config:    cfg,
		Connector: &ingest.LiveKitConnector{URL: url, APIKey: sfuKey, APISecret: sfuSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	if _, err := srv.Create(ingest.CreateRequest{SessionID: "it1", Room: "party"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Play(ctx, "it1", ingest.PlayRequest{QueueEntryID: "q1", Title: "Test film", MediaType: "movie",
		Playback: ingest.PlaybackItem{ItemID: "item-1", StreamURL: mp4, StartSeconds: 1}}); err != nil {
		t.Fatal(err)
	}

	v := &viewer{t: t}
	token, err := auth.NewAccessToken(sfuKey, sfuSecret).SetIdentity("viewer-1").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "party"}).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	room, err := lksdk.ConnectToRoomWithToken(url, token, v.callback())
	if err != nil {
		t.Fatalf("viewer join: %v", err)
	}
	defer func() {
		room.Disconnect()
		v.wg.Wait()
	}()

	eventually(t, "a VP8 keyframe, Opus packets and playback messages", func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.keyframes > 0 && v.vp8Frames > 10 && v.opus > 20 && len(v.playback) > 0
	})
	v.mu.Lock()
	if v.noPicID > 0 || v.badOpus > 0 {
		t.Errorf("%d VP8 packets without PictureID, %d bad Opus packets", v.noPicID, v.badOpus)
	}
	var anchored bool
	for _, m := range v.playback {
		if m.State == "playing" && m.ItemID == "item-1" && m.VideoRTP != nil && m.AudioRTP != nil {
			anchored = true
		}
	}
	names := strings.Join(v.trackNames, ",")
	v.mu.Unlock()
	if !anchored {
		t.Errorf("no playing message with RTP anchors: %+v", v.playback)
	}
	if !strings.Contains(names, "video") || !strings.Contains(names, "audio") {
		t.Errorf("subscribed tracks %q", names)
	}
	rp := room.GetParticipantByIdentity("ingest-it1")
	if rp == nil {
		t.Fatal("ingest participant not in the room")
	}
	eventually(t, "playback attribute", func() bool {
		a := rp.Attributes()
		return a["marquee.role"] == "ingest" && strings.Contains(a["marquee.playback"], `"itemId":"item-1"`)
	})
	if rp.Name() != "Marquee" {
		t.Errorf("participant name %q", rp.Name())
	}

	// A viewer who joins a paused party still gets the paused picture: its
	// subscription makes the SFU ask for a keyframe (PLI), and the paused
	// ingest answers with the paused frame.
	if err := srv.Control(ctx, "it1", ingest.ControlRequest{Action: ingest.ActionPause}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "paused", func() bool { st, _ := srv.Status("it1"); return st.PlaybackState == "paused" })
	late := &viewer{t: t}
	token2, err := auth.NewAccessToken(sfuKey, sfuSecret).SetIdentity("viewer-late").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "party"}).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	room2, err := lksdk.ConnectToRoomWithToken(url, token2, late.callback())
	if err != nil {
		t.Fatalf("late viewer join: %v", err)
	}
	defer func() {
		room2.Disconnect()
		late.wg.Wait()
	}()
	eventually(t, "the paused frame for the late viewer", func() bool {
		late.mu.Lock()
		defer late.mu.Unlock()
		return late.keyframes > 0
	})
	if st, _ := srv.Status("it1"); st.PlaybackState != "paused" {
		t.Fatalf("state %q", st.PlaybackState)
	}
	if err := srv.Delete("it1"); err != nil {
		t.Fatal(err)
	}
}

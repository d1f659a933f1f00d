package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/rooms/roomstest"
)

// trackEvents records the video tracks a viewer was given and lost.
type trackEvents struct {
	mu          sync.Mutex
	videoSubs   []string // SIDs, in order
	unpublished []string
}

// TestMixedQueueFollowsTracks plays a film, a track, then the film again
// into the SFU. The audio-only item takes the video track off (viewers
// must not keep the film's last frame), and the next film publishes a new
// video track (the same simulcast cid and RIDs as the first) whose frames
// reach the viewer without it rejoining.
func TestMixedQueueFollowsTracks(t *testing.T) {
	url := roomstest.Start(t, roomstest.Options{}).URL
	film, song := testmedia.Generate(t, testmedia.H264AAC), testmedia.Generate(t, testmedia.MP3)
	cfg := ingest.DefaultConfig()
	cfg.Secret = "integration-secret"
	cfg.MediaRoots = []string{filepath.Dir(film), filepath.Dir(song)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := ingest.New(ingest.Params{Config: cfg, Logger: quiet,
		Connector: &ingest.LiveKitConnector{URL: url, APIKey: sfuKey, APISecret: sfuSecret, Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := srv.Create(ingest.CreateRequest{SessionID: "mix", Room: "mixed"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	play := func(id, title, kind, file string) {
		t.Helper()
		if err := srv.Play(ctx, "mix", ingest.PlayRequest{QueueEntryID: "q-" + id, Title: title, MediaType: kind,
			Playback: ingest.PlaybackItem{ItemID: id, StreamURL: file}}); err != nil {
			t.Fatal(err)
		}
	}

	v := &viewer{t: t}
	ev := &trackEvents{}
	cb := v.callback()
	subscribed := cb.OnTrackSubscribed
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			ev.mu.Lock()
			ev.videoSubs = append(ev.videoSubs, pub.SID())
			ev.mu.Unlock()
		}
		subscribed(track, pub, rp)
	}
	cb.OnTrackUnpublished = func(pub *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		if pub.Kind() == lksdk.TrackKindVideo {
			ev.mu.Lock()
			ev.unpublished = append(ev.unpublished, pub.SID())
			ev.mu.Unlock()
		}
	}
	token, err := auth.NewAccessToken(sfuKey, sfuSecret).SetIdentity("viewer-mix").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "mixed"}).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	play("film-1", "Film", "movie", film)
	room, err := lksdk.ConnectToRoomWithToken(url, token, cb)
	if err != nil {
		t.Fatalf("viewer join: %v", err)
	}
	defer func() {
		room.Disconnect()
		v.wg.Wait()
	}()
	keyframes := func() int { v.mu.Lock(); defer v.mu.Unlock(); return v.keyframes }
	opus := func() int { v.mu.Lock(); defer v.mu.Unlock(); return v.opus }
	eventually(t, "the film's frames", func() bool { return keyframes() > 0 })

	play("song-1", "Song", "track", song)
	eventually(t, "the film's video track unpublished for the song", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		return len(ev.videoSubs) == 1 && len(ev.unpublished) == 1 && ev.unpublished[0] == ev.videoSubs[0]
	})
	from := opus()
	eventually(t, "the song's sound", func() bool { return opus() > from+20 })

	from = keyframes()
	play("film-2", "Film again", "movie", film)
	eventually(t, "a new video track with the second film's frames", func() bool {
		ev.mu.Lock()
		n := len(ev.videoSubs)
		ev.mu.Unlock()
		return n == 2 && keyframes() > from
	})
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.videoSubs[1] == ev.videoSubs[0] {
		t.Errorf("the second film came on the first film's track %s", ev.videoSubs[0])
	}
}

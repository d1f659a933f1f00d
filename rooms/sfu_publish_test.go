package rooms_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// ladder is one simulcast resolution ladder, low to high.
type ladder [3]struct{ w, h int }

var (
	filmLadder    = ladder{{160, 90}, {320, 180}, {640, 360}}
	episodeLadder = ladder{{176, 96}, {352, 192}, {704, 384}}
)

// encodeLadder encodes the ladder's three clips in parallel.
func encodeLadder(t *testing.T, l ladder) [3]string {
	t.Helper()
	dir := t.TempDir()
	var clips [3]string
	var errs [3]error
	var wg sync.WaitGroup
	for i := range l {
		wg.Add(1)
		go func() { defer wg.Done(); clips[i], errs[i] = encodeVP8(dir, l[i].w, l[i].h, 20, 6) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return clips
}

// publishLadder publishes the clips as Marquee's ingest does: three VP8
// layers sharing the simulcast ID "video", so every publication carries
// the same client track id (cid, msid) and the same RIDs q/h/f.
func publishLadder(t *testing.T, room *lksdk.Room, l ladder, clips [3]string) (*lksdk.LocalTrackPublication, []*lksdk.LocalTrack) {
	t.Helper()
	var tracks []*lksdk.LocalTrack
	for i, q := range []livekit.VideoQuality{livekit.VideoQuality_LOW, livekit.VideoQuality_MEDIUM, livekit.VideoQuality_HIGH} {
		tr, err := lksdk.NewLocalFileTrack(clips[i], lksdk.ReaderTrackWithFrameDuration(50*time.Millisecond),
			lksdk.ReaderTrackWithSampleOptions(lksdk.WithSimulcast("video", &livekit.VideoLayer{
				Quality: q, Width: uint32(l[i].w), Height: uint32(l[i].h)})))
		if err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	pub, err := room.LocalParticipant.PublishSimulcastTrack(tracks, &lksdk.TrackPublicationOptions{Name: "video",
		VideoWidth: l[2].w, VideoHeight: l[2].h})
	if err != nil {
		t.Fatalf("publish simulcast: %v", err)
	}
	return pub, tracks
}

// removeSenders takes the ladder's sender off the publisher's connection
// and renegotiates, which server-sdk-go's UnpublishTrack leaves undone for
// simulcast publications.
func removeSenders(t *testing.T, room *lksdk.Room, tracks []*lksdk.LocalTrack) {
	t.Helper()
	pc := room.LocalParticipant.GetPublisherPeerConnection()
	for _, s := range pc.GetSenders() {
		if s.Track() == webrtc.TrackLocal(tracks[0]) {
			if err := pc.RemoveTrack(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	room.OnMediaSectionsRequirement(&livekit.MediaSectionsRequirement{})
}

// TestRepublishSameTrackID: the ingest unpublishes its video between items
// and publishes another ladder under the same cid and RIDs. A subscriber
// must receive the new publication's frames: the SFU binds the new layers
// to a new track instead of the old one's ("layer already added"). Both
// ways of unpublishing are covered: server-sdk-go's UnpublishTrack alone
// (the old m-section stays, silent) and with the sender removed (the
// m-section goes inactive, and pion may reuse it for the next ladder).
func TestRepublishSameTrackID(t *testing.T) {
	filmClips, episodeClips := encodeLadder(t, filmLadder), encodeLadder(t, episodeLadder)
	for _, tc := range []struct {
		name   string
		remove bool // also remove the sender and renegotiate
		gap    bool // wait for the unpublish to reach the viewer first
	}{
		{name: "sdk-unpublish"},
		{name: "sender-removed-gap", remove: true, gap: true},
		{name: "sender-removed-at-once", remove: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSFU(t)
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "republish"} }
			pubRoom := joinSDK(t, s, "ingest-r", grant(), lksdk.NewRoomCallback())
			kf := &keyframeLog{}
			var mu sync.Mutex
			unpublished := 0
			cb := kf.callback()
			cb.OnTrackUnpublished = func(*lksdk.RemoteTrackPublication, *lksdk.RemoteParticipant) {
				mu.Lock()
				unpublished++
				mu.Unlock()
			}
			joinSDK(t, s, "viewer-r", grant(), cb)
			defer func() { kf.mu.Lock(); t.Logf("key frame widths seen: %v", kf.widths); kf.mu.Unlock() }()

			film, filmTracks := publishLadder(t, pubRoom, filmLadder, filmClips)
			eventually(t, ctx, "the film's top layer", func() bool { return kf.saw(filmLadder[2].w, 0) })

			if err := pubRoom.LocalParticipant.UnpublishTrack(film.SID()); err != nil {
				t.Fatal(err)
			}
			if tc.remove {
				removeSenders(t, pubRoom, filmTracks)
			}
			if tc.gap {
				eventually(t, ctx, "the viewer sees the film unpublished", func() bool {
					mu.Lock()
					defer mu.Unlock()
					return unpublished == 1
				})
			}
			from := kf.mark()
			publishLadder(t, pubRoom, episodeLadder, episodeClips)
			eventually(t, ctx, "the episode's top layer", func() bool { return kf.saw(episodeLadder[2].w, from) })
			eventually(t, ctx, "the film unpublished, the episode published", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return unpublished == 1 && counter(t, s.reg, "marquee_sfu_published_tracks") == 1
			})
		})
	}
}

// TestTrackAnnouncedBeforeMedia: a publisher announces a track and
// negotiates it, then sends no RTP for a while. As in LiveKit, the track is
// published at signalling time: the subscriber sees it in a participant
// update and the server counts it before any media; once RTP flows, the
// subscriber receives it on that same track.
func TestTrackAnnouncedBeforeMedia(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "late-media"} }
	pubRoom := joinSDK(t, s, "slow-publisher", grant(), lksdk.NewRoomCallback())
	track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000})
	if err != nil {
		t.Fatal(err)
	}
	lp, err := pubRoom.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "video"})
	if err != nil {
		t.Fatal(err)
	}

	published := make(chan string, 4)
	rec := &sdkRecorder{}
	cb := rec.callback()
	cb.OnTrackPublished = func(p *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) { published <- p.SID() }
	joinSDK(t, s, "viewer-l", grant(), cb)
	select {
	case sid := <-published:
		if sid != lp.SID() {
			t.Fatalf("viewer saw track %s published, want %s", sid, lp.SID())
		}
	case <-ctx.Done():
		t.Fatal("the track was not published before its media")
	}
	if n := counter(t, s.reg, "marquee_sfu_published_tracks"); n != 1 {
		t.Errorf("published tracks = %v before any RTP, want 1", n)
	}
	if n, tracks, _ := rec.snapshot(); n != 0 || tracks != 0 {
		t.Fatalf("viewer got %d packets on %d tracks before the publisher sent any", n, tracks)
	}

	// Media starts: the viewer receives it on the announced track.
	f, err := os.Open(vp8Clip(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ivf, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(33 * time.Millisecond)
		defer tick.Stop()
		for {
			frame, _, err := ivf.ParseNextFrame()
			if err != nil {
				return
			}
			if err := track.WriteSample(media.Sample{Data: frame, Duration: 33 * time.Millisecond}, nil); err != nil {
				return
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	eventually(t, ctx, "media on the announced track", func() bool { n, _, _ := rec.snapshot(); return n > 30 })
	rec.mu.Lock()
	got := append([]string(nil), rec.tracks...)
	rec.mu.Unlock()
	if len(got) != 1 || got[0] != lp.SID() {
		t.Errorf("viewer subscribed to %v, want [%s]", got, lp.SID())
	}
}

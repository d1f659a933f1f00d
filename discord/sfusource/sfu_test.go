package sfusource_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/marquee-party/marquee/discord/sfusource"
	"github.com/marquee-party/marquee/rooms/roomstest"
)

const (
	apiKey    = roomstest.Key
	apiSecret = roomstest.Secret
)

// opusFrame is a valid 20 ms Opus packet (TOC 0xFC) carrying its index.
func opusFrame(i int) []byte {
	b := []byte{0xFC, 0, 0, 0, 0, 0x55, 0xAA}
	binary.BigEndian.PutUint32(b[1:], uint32(i))
	return b
}

// TestForwardsIngestAudioFromTheSFU: an SDK participant playing the ingest
// publishes an Opus track named "audio" and a paused playback packet; the
// hidden subscriber delivers the same Opus bytes, in order, then a pause
// marker.
func TestForwardsIngestAudioFromTheSFU(t *testing.T) {
	url := roomstest.Start(t, roomstest.Options{}).URL
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	at := auth.NewAccessToken(apiKey, apiSecret).SetIdentity("ingest-s1").SetName("Marquee").
		SetAttributes(map[string]string{"marquee.role": "ingest"}).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "party-1"}).SetValidFor(time.Hour)
	tok, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	ingest, err := lksdk.ConnectToRoomWithToken(url, tok, lksdk.NewRoomCallback())
	if err != nil {
		t.Fatal(err)
	}
	defer ingest.Disconnect()
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "audio"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	pctx, stopPub := context.WithCancel(ctx)
	defer stopPub()
	wg.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			_ = track.WriteSample(media.Sample{Data: opusFrame(i), Duration: 20 * time.Millisecond}, nil)
		}
	})

	sources, err := sfusource.New(sfusource.Config{URL: url, APIKey: apiKey, APISecret: apiSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := sources.Open(ctx, "party-1")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	last := -1
	for n := 0; n < 50; n++ {
		f, err := src.NextFrame(ctx)
		if err != nil {
			t.Fatalf("NextFrame after %d frames: %v", n, err)
		}
		if f.Pause || len(f.Opus) != 7 || !bytes.Equal(f.Opus[5:], []byte{0x55, 0xAA}) || f.Opus[0] != 0xFC {
			t.Fatalf("frame %d = %+v, want the published Opus bytes", n, f)
		}
		i := int(binary.BigEndian.Uint32(f.Opus[1:]))
		if i <= last {
			t.Fatalf("frame index %d after %d", i, last)
		}
		last = i
	}

	if err := ingest.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Topic: "marquee.playback",
		Payload: []byte(`{"type":"playback","state":"paused","positionMs":1000}`)}, lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := src.NextFrame(ctx)
		if err != nil {
			t.Fatalf("no pause marker: %v", err)
		}
		if f.Pause {
			break
		}
	}
	stopPub()
}

// TestListenerCannotPauseDiscord: a listener whose token even claims
// marquee.role=ingest (what a join request could once set) sends a paused
// report; the Discord audio goes on without a pause marker, and the real
// ingest's pause still gets through (issue #13.1).
func TestListenerCannotPauseDiscord(t *testing.T) {
	url := roomstest.Start(t, roomstest.Options{}).URL
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	join := func(identity string, grant *auth.VideoGrant, cb *lksdk.RoomCallback) *lksdk.Room {
		tok, err := auth.NewAccessToken(apiKey, apiSecret).SetIdentity(identity).
			SetAttributes(map[string]string{"marquee.role": "ingest"}).
			SetVideoGrant(grant).SetValidFor(time.Hour).ToJWT()
		if err != nil {
			t.Fatal(err)
		}
		r, err := lksdk.ConnectToRoomWithToken(url, tok, cb)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Disconnect)
		return r
	}
	ingest := join("ingest-s2", &auth.VideoGrant{RoomJoin: true, Room: "party-2"}, lksdk.NewRoomCallback())
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "audio"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	play := func(ctx context.Context, from int) {
		wg.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := from; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				_ = track.WriteSample(media.Sample{Data: opusFrame(i), Duration: 20 * time.Millisecond}, nil)
			}
		})
	}
	pctx, stopPub := context.WithCancel(ctx)
	play(pctx, 0)
	no, yes := false, true
	// What the API grants every party member (party.Grant).
	listener := join("user-9", &auth.VideoGrant{RoomJoin: true, Room: "party-2", CanPublish: &no, CanPublishData: &yes},
		lksdk.NewRoomCallback())
	relayed := make(chan struct{}, 4)
	obs := lksdk.NewRoomCallback()
	obs.OnDataPacket = func(lksdk.DataPacket, lksdk.DataReceiveParams) { relayed <- struct{}{} }
	join("user-10", &auth.VideoGrant{RoomJoin: true, Room: "party-2", CanPublish: &no}, obs)

	sources, err := sfusource.New(sfusource.Config{URL: url, APIKey: apiKey, APISecret: apiSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := sources.Open(ctx, "party-2")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := src.NextFrame(ctx); err != nil { // audio flows: we are subscribed
		t.Fatal(err)
	}
	// Audio stops (so nothing clears a pause), the forged report goes out
	// and the SFU relays it to everyone; only then does audio resume,
	// numbered from 100000.
	stopPub()
	wg.Wait()
	paused := []byte(`{"type":"playback","state":"paused","sentAtMs":9000000000000000}`)
	if err := listener.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Topic: "marquee.playback", Payload: paused},
		lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-relayed:
	case <-ctx.Done():
		t.Fatal("the listener's report was never relayed")
	}
	pctx, stopPub = context.WithCancel(ctx)
	defer stopPub()
	play(pctx, 100000)
	for {
		f, err := src.NextFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Pause {
			t.Fatal("the listener's report paused the Discord audio")
		}
		if binary.BigEndian.Uint32(f.Opus[1:]) >= 100000 {
			break
		}
	}
	if err := ingest.LocalParticipant.PublishDataPacket(&lksdk.UserDataPacket{Topic: "marquee.playback",
		Payload: []byte(`{"type":"playback","state":"paused"}`)}, lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := src.NextFrame(ctx)
		if err != nil {
			t.Fatalf("no pause marker from the ingest: %v", err)
		}
		if f.Pause {
			break
		}
	}
	stopPub()
}

package rooms_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// keyframeWidth returns the picture width of a VP8 key frame starting in
// this RTP payload (RFC 7741 §4.2 descriptor, RFC 6386 §9.1 frame header),
// or 0.
func keyframeWidth(payload []byte) int {
	var vp8 codecs.VP8Packet
	frame, err := vp8.Unmarshal(payload)
	if err != nil || vp8.S != 1 || vp8.PID != 0 || len(frame) < 10 {
		return 0
	}
	if frame[0]&0x01 != 0 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0 // inter frame
	}
	return int(frame[6]) | int(frame[7]&0x3f)<<8
}

// simulcastLayers are small so the encode is quick on a busy machine; the
// SFU takes the layer sizes from the AddTrackRequest.
var simulcastLayers = []struct {
	q    livekit.VideoQuality
	w, h int
}{{livekit.VideoQuality_LOW, 160, 90}, {livekit.VideoQuality_MEDIUM, 320, 180}, {livekit.VideoQuality_HIGH, 640, 360}}

// publishSimulcast joins identity and publishes three VP8 layers (q/h/f)
// encoded in parallel with the ffmpeg CLI.
func publishSimulcast(t *testing.T, s *sfu, identity string, grant *auth.VideoGrant) {
	t.Helper()
	clips := make([]string, len(simulcastLayers))
	errs := make([]error, len(simulcastLayers))
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i, l := range simulcastLayers {
		wg.Add(1)
		go func() { defer wg.Done(); clips[i], errs[i] = encodeVP8(dir, l.w, l.h, 20, 8) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	pub := joinSDK(t, s, identity, grant, lksdk.NewRoomCallback())
	var tracks []*lksdk.LocalTrack
	for i, l := range simulcastLayers {
		tr, err := lksdk.NewLocalFileTrack(clips[i], lksdk.ReaderTrackWithFrameDuration(50*time.Millisecond),
			lksdk.ReaderTrackWithSampleOptions(lksdk.WithSimulcast("video", &livekit.VideoLayer{
				Quality: l.q, Width: uint32(l.w), Height: uint32(l.h)})))
		if err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	if _, err := pub.LocalParticipant.PublishSimulcastTrack(tracks, &lksdk.TrackPublicationOptions{Name: "video"}); err != nil {
		t.Fatalf("publish simulcast: %v", err)
	}
}

// keyframeLog records the widths of the VP8 key frames a subscriber gets.
type keyframeLog struct {
	mu     sync.Mutex
	widths []int
	remote *lksdk.RemoteTrackPublication
}

func (k *keyframeLog) callback() *lksdk.RoomCallback {
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, p *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		k.mu.Lock()
		k.remote = p
		k.mu.Unlock()
		go func() {
			for {
				pkt, _, err := track.ReadRTP()
				if err != nil {
					return
				}
				if w := keyframeWidth(pkt.Payload); w > 0 {
					k.mu.Lock()
					k.widths = append(k.widths, w)
					k.mu.Unlock()
				}
			}
		}()
	}
	return cb
}

// saw reports a key frame w wide among those logged after index from.
func (k *keyframeLog) saw(w, from int) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, got := range k.widths[min(from, len(k.widths)):] {
		if got == w {
			return true
		}
	}
	return false
}

func (k *keyframeLog) mark() int { k.mu.Lock(); defer k.mu.Unlock(); return len(k.widths) }

// TestSimulcastQuality: a server-sdk-go publisher sends three VP8 layers
// (q/h/f); the subscriber receives the top one, then the layer it asks for
// with UpdateTrackSettings, switched at key frames.
func TestSimulcastQuality(t *testing.T) {
	s := startSFU(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	grant := func() *auth.VideoGrant { return &auth.VideoGrant{RoomJoin: true, Room: "simulcast"} }
	publishSimulcast(t, s, "ingest-3", grant())
	kf := &keyframeLog{}
	joinSDK(t, s, "viewer-3", grant(), kf.callback())
	defer func() { kf.mu.Lock(); t.Logf("key frame widths seen: %v", kf.widths); kf.mu.Unlock() }()

	eventually(t, ctx, "the top layer", func() bool { return kf.saw(640, 0) })
	for _, l := range simulcastLayers {
		from := kf.mark()
		kf.mu.Lock()
		p := kf.remote
		kf.mu.Unlock()
		if err := p.SetVideoQuality(l.q); err != nil {
			t.Fatal(err)
		}
		eventually(t, ctx, fmt.Sprintf("key frames %d wide after asking for %v", l.w, l.q),
			func() bool { return kf.saw(l.w, from) })
	}
	if n := counter(t, s.reg, "marquee_sfu_published_tracks"); n != 1 {
		t.Errorf("published tracks = %v, want 1 (three layers, one track)", n)
	}
}

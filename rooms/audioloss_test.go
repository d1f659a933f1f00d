//go:build audioloss

package rooms_test

// The audio-loss measurement of scripts/audioloss.sh: a publisher of
// numbered Opus frames and a subscriber that counts which frames it got,
// run as separate processes on either side of a lossy link. Built only
// with -tags audioloss: it measures, it asserts nothing.

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/marquee-party/marquee/rooms/forward"
)

func lossEnv(t *testing.T) (url string, secs int) {
	url = os.Getenv("AUDIOLOSS_URL")
	secs, _ = strconv.Atoi(os.Getenv("AUDIOLOSS_SECONDS"))
	if url == "" || secs <= 0 {
		t.Fatal("set AUDIOLOSS_URL (ws://host:port of the SFU) and AUDIOLOSS_SECONDS")
	}
	return url, secs
}

// lossFrame is frame n: a SILK 20 ms TOC byte, then n.
func lossFrame(n uint32) []byte {
	return []byte{0x78, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0xaa, 0xbb, 0xcc}
}

func lossFrameNumber(b []byte) (uint32, bool) {
	if len(b) < 5 || b[0] != 0x78 {
		return 0, false
	}
	return uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4]), true
}

// TestAudioLossPublish publishes numbered Opus frames every 20 ms.
func TestAudioLossPublish(t *testing.T) {
	url, secs := lossEnv(t)
	room, err := lksdk.ConnectToRoomWithToken(url, token(t, "ingest-loss", &auth.VideoGrant{RoomJoin: true, Room: "party"}),
		lksdk.NewRoomCallback())
	if err != nil {
		t.Fatal(err)
	}
	defer room.Disconnect()
	track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000,
		Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "audio",
		Source: livekit.TrackSource_MICROPHONE}); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n := uint32(0); n < uint32(secs*50); n++ {
		_ = track.WriteSample(media.Sample{Data: lossFrame(n), Duration: 20 * time.Millisecond}, nil)
		<-tick.C
	}
}

// TestAudioLossView subscribes (negotiating RED when AUDIOLOSS_RED=1)
// for AUDIOLOSS_SECONDS and reports how many frames it received, how
// many it rebuilt from RED, and how many stayed lost.
func TestAudioLossView(t *testing.T) {
	url, secs := lossEnv(t)
	red := os.Getenv("AUDIOLOSS_RED") == "1"
	v := newREDViewerAt(t, &sfu{url: url}, "viewer-loss", red)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second)
	defer cancel()
	type tally struct {
		packets, primary, rebuilt int
		first, last               uint32
		got                       map[uint32]bool
	}
	res := make(chan tally, 1)
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		tl := tally{got: map[uint32]bool{}, first: ^uint32(0)}
		isRED := tr.Codec().MimeType == forward.MimeTypeRED
		var blocks []forward.REDBlock
		defer func() { res <- tl }()
		for ctx.Err() == nil {
			_ = tr.SetReadDeadline(time.Now().Add(time.Second))
			p, _, err := tr.ReadRTP()
			if err != nil {
				continue
			}
			tl.packets++
			blocks = blocks[:0]
			if isRED {
				if blocks, err = forward.ParseRED(p.Payload, blocks); err != nil {
					continue
				}
			} else {
				blocks = append(blocks, forward.REDBlock{Payload: p.Payload})
			}
			for i, b := range blocks {
				n, ok := lossFrameNumber(b.Payload)
				if !ok || tl.got[n] {
					continue
				}
				tl.got[n] = true
				tl.first, tl.last = min(tl.first, n), max(tl.last, n)
				if i == len(blocks)-1 {
					tl.primary++
				} else {
					tl.rebuilt++
				}
			}
		}
	})
	go func() { _ = v.signal(ctx) }()
	<-ctx.Done()
	select {
	case tl := <-res:
		span := int(tl.last-tl.first) + 1
		lost := span - len(tl.got)
		t.Logf("AUDIOLOSS red=%v packets=%d frames=%d primary=%d rebuilt=%d lost=%d residual_loss=%.2f%% link_loss=%.2f%%",
			red, tl.packets, span, tl.primary, tl.rebuilt, lost, 100*float64(lost)/float64(span),
			100*float64(span-tl.primary)/float64(span))
	case <-time.After(5 * time.Second):
		t.Fatal("no audio track arrived")
	}
}

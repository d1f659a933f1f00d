package sfubench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Dev credentials of `sfu --dev` (LiveKit's dev mode).
const (
	devKey    = "devkey"
	devSecret = "secret"
	benchRoom = "bench"
)

// layerSpec is one synthetic simulcast layer at a realistic bitrate.
type layerSpec struct {
	quality       livekit.VideoQuality
	width, height uint32
	bitrate       int // bits per second
}

// layers720p is a 720p VP8 simulcast: 2.0 / 0.6 / 0.15 Mbit/s.
var layers720p = []layerSpec{
	{livekit.VideoQuality_LOW, 320, 180, 150_000},
	{livekit.VideoQuality_MEDIUM, 640, 360, 600_000},
	{livekit.VideoQuality_HIGH, 1280, 720, 2_000_000},
}

const (
	fps           = 30
	gopFrames     = 2 * fps // a key frame every 2 s
	maxPacketSize = 1100
	opusBytes     = 160 // 64 kbit/s in 20 ms packets
)

// token mints a LiveKit access token for identity.
func token(identity string, publish bool) (string, error) {
	at := auth.NewAccessToken(devKey, devSecret)
	at.SetIdentity(identity).SetValidFor(time.Hour).SetVideoGrant(&auth.VideoGrant{
		RoomJoin: true, Room: benchRoom, CanPublish: &publish, CanPublishData: &publish,
	})
	return at.ToJWT()
}

// publisher sends synthetic 720p VP8 simulcast and Opus into the room,
// answering PLIs with key frames.
type publisher struct {
	room    *lksdk.Room
	video   []*lksdk.LocalTrack
	audio   *lksdk.LocalTrack
	wantKey [3]atomic.Bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startPublisher(url string) (*publisher, error) {
	tok, err := token("bench-publisher", true)
	if err != nil {
		return nil, err
	}
	room, err := lksdk.ConnectToRoomWithToken(url, tok, lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		return nil, fmt.Errorf("sfubench: publisher join: %w", err)
	}
	p := &publisher{room: room}
	for i, l := range layers720p {
		tr, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			lksdk.WithSimulcast("video", &livekit.VideoLayer{Quality: l.quality, Width: l.width, Height: l.height,
				Bitrate: uint32(l.bitrate)}),
			lksdk.WithRTCPHandler(func(pkt rtcp.Packet) {
				switch pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.wantKey[i].Store(true)
				}
			}))
		if err != nil {
			room.Disconnect()
			return nil, err
		}
		p.video = append(p.video, tr)
	}
	if _, err := room.LocalParticipant.PublishSimulcastTrack(p.video, &lksdk.TrackPublicationOptions{
		Name: "video", VideoWidth: 1280, VideoHeight: 720}); err != nil {
		room.Disconnect()
		return nil, fmt.Errorf("sfubench: publish video: %w", err)
	}
	if p.audio, err = lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2}); err != nil {
		room.Disconnect()
		return nil, err
	}
	if _, err := room.LocalParticipant.PublishTrack(p.audio, &lksdk.TrackPublicationOptions{Name: "audio",
		Source: livekit.TrackSource_MICROPHONE}); err != nil {
		room.Disconnect()
		return nil, fmt.Errorf("sfubench: publish audio: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(2)
	go p.sendVideo(ctx)
	go p.sendAudio(ctx)
	return p, nil
}

// sendVideo writes one frame per layer every 1/30 s; all layers share one
// RTP clock, like Marquee's ingest.
func (p *publisher) sendVideo(ctx context.Context) {
	defer p.wg.Done()
	tick := time.NewTicker(time.Second / fps)
	defer tick.Stop()
	seqs := make([]uint16, len(p.video))
	for frame := uint32(0); ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		ts := frame * (90000 / fps)
		for i, l := range layers720p {
			key := frame%gopFrames == 0 || p.wantKey[i].Swap(false)
			size := l.bitrate / 8 / fps
			if key {
				size *= 3
			}
			pkts := vp8Packets(size, uint16(frame)&0x7fff, uint8(frame), key)
			for j, pl := range pkts {
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seqs[i],
					Timestamp: ts, Marker: j == len(pkts)-1}, Payload: pl}
				seqs[i]++
				_ = p.video[i].WriteRTP(pkt, nil)
			}
		}
	}
}

// sendAudio writes a 20 ms Opus-sized packet every 20 ms.
func (p *publisher) sendAudio(ctx context.Context) {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, opusBytes)
	payload[0] = 0xfc // TOC: CELT FB 20 ms, stereo (RFC 6716 §3.1)
	var seq uint16
	for n := uint32(0); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_ = p.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq,
			Timestamp: n * 960}, Payload: payload}, nil)
		seq++
	}
}

func (p *publisher) close() {
	p.cancel()
	p.wg.Wait()
	p.room.Disconnect()
}

// vp8Packets splits a synthetic frame of size bytes into RTP payloads,
// each with a full VP8 payload descriptor (RFC 7741 §4.2: 15-bit
// PictureID, TL0PICIDX) and, on the first, a payload header whose P bit
// marks key frames (§4.3).
func vp8Packets(size int, pic uint16, tl0 uint8, key bool) [][]byte {
	n := max((size+maxPacketSize-1)/maxPacketSize, 1)
	per := max(size/n, 8)
	out := make([][]byte, n)
	for i := range n {
		b := make([]byte, 5+per)
		b[0] = 0x80 // X
		if i == 0 {
			b[0] |= 0x10 // S, partition 0
		}
		b[1] = 0x80 | 0x40 // I, L
		binary.BigEndian.PutUint16(b[2:], 0x8000|pic)
		b[4] = tl0
		if i == 0 {
			b[5] = 0x01 // inter frame
			if key {
				b[5] = 0x00
			}
		}
		out[i] = b
	}
	return out
}

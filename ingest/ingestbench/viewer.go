package ingestbench

import (
	"sync"
	"time"

	"github.com/asticode/go-astiav"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/marquee-party/marquee/media"
)

// viewer subscribes with server-sdk-go and decodes video with libav,
// recording when each RTP timestamp was decoded.
type viewer struct {
	codec string
	wg    sync.WaitGroup

	mu        sync.Mutex
	decodedAt map[uint32]time.Time
	first     time.Time
	errs      int
}

func newViewer(codec string) *viewer {
	return &viewer{codec: codec, decodedAt: map[uint32]time.Time{}}
}

func (v *viewer) callback() *lksdk.RoomCallback {
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		if track.Kind() != webrtc.RTPCodecTypeVideo {
			go drain(track)
			return
		}
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			v.decode(track)
		}()
	}
	return cb
}

func drain(track *webrtc.TrackRemote) {
	for {
		if _, _, err := track.ReadRTP(); err != nil {
			return
		}
	}
}

// decode reassembles frames (RFC 7741 §4, RFC 6184 §5.8) and decodes them.
func (v *viewer) decode(track *webrtc.TrackRemote) {
	id := astiav.CodecIDVp8
	if v.codec == media.CodecH264 {
		id = astiav.CodecIDH264
	}
	codec := astiav.FindDecoder(id)
	cc := astiav.AllocCodecContext(codec)
	defer cc.Free()
	cc.SetThreadCount(1)
	if err := cc.Open(codec, nil); err != nil {
		return
	}
	pkt, frame := astiav.AllocPacket(), astiav.AllocFrame()
	defer pkt.Free()
	defer frame.Free()
	var vp8 codecs.VP8Packet
	var h264 codecs.H264Packet
	var au []byte
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		var body []byte
		if v.codec == media.CodecH264 {
			body, err = h264.Unmarshal(p.Payload)
		} else {
			body, err = vp8.Unmarshal(p.Payload)
			if err == nil && vp8.S == 1 && vp8.PID == 0 {
				au = au[:0]
			}
		}
		if err != nil {
			continue
		}
		au = append(au, body...)
		if !p.Marker || len(au) == 0 {
			continue
		}
		pkt.Unref()
		if err := pkt.FromData(au); err == nil && cc.SendPacket(pkt) == nil {
			for cc.ReceiveFrame(frame) == nil {
				v.decoded(p.Timestamp)
				frame.Unref()
			}
		} else {
			v.mu.Lock()
			v.errs++
			v.mu.Unlock()
		}
		au = nil
	}
}

func (v *viewer) decoded(ts uint32) {
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.first.IsZero() {
		v.first = now
	}
	if _, ok := v.decodedAt[ts]; !ok {
		v.decodedAt[ts] = now
	}
}

func (v *viewer) firstFrame() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.first
}

func (v *viewer) decodedTime(ts uint32) (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.decodedAt[ts]
	return t, ok
}

package sfubench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// streamStats counts one received track: packets and the highest
// extended sequence number, for loss over a window.
type streamStats struct {
	packets atomic.Int64
	highest atomic.Int64 // extended (unwrapped) sequence number
}

// counts is a snapshot of streamStats.
type counts struct{ packets, highest int64 }

func (s *streamStats) snapshot() counts {
	return counts{s.packets.Load(), s.highest.Load()}
}

// viewer is one subscriber over real WebRTC with LiveKit signalling.
type viewer struct {
	room       *lksdk.Room
	joinStart  time.Time
	firstFrame atomic.Int64 // unix ns of the first complete video frame
	video      streamStats
	audio      streamStats
	wg         sync.WaitGroup
}

// joinViewer connects one subscriber and starts counting its packets.
func joinViewer(url, identity string) (*viewer, error) {
	tok, err := token(identity, false)
	if err != nil {
		return nil, err
	}
	v := &viewer{joinStart: time.Now()}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		s := &v.audio
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			s = &v.video
		}
		v.wg.Add(1)
		go v.read(track, s)
	}
	room, err := lksdk.ConnectToRoomWithToken(url, tok, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		return nil, fmt.Errorf("sfubench: %s join: %w", identity, err)
	}
	v.room = room
	return v, nil
}

// read counts a track's packets until it ends. The first video packet with
// the marker bit closes the first complete frame.
func (v *viewer) read(track *webrtc.TrackRemote, s *streamStats) {
	defer v.wg.Done()
	buf := make([]byte, 1500)
	var ext int64
	started := false
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		seq := uint16(buf[2])<<8 | uint16(buf[3])
		if !started {
			ext, started = int64(seq), true
		} else if d := int64(int16(seq - uint16(ext))); d > 0 {
			ext += d
		}
		s.highest.Store(ext)
		s.packets.Add(1)
		if s == &v.video && buf[1]&0x80 != 0 && v.firstFrame.Load() == 0 {
			v.firstFrame.Store(time.Now().UnixNano())
		}
	}
}

// joinToFirstFrame returns how long the first complete frame took, or
// false if none came yet.
func (v *viewer) joinToFirstFrame() (time.Duration, bool) {
	t := v.firstFrame.Load()
	if t == 0 {
		return 0, false
	}
	return time.Duration(t - v.joinStart.UnixNano()), true
}

func (v *viewer) close() {
	if v.room != nil {
		v.room.Disconnect()
	}
	v.wg.Wait()
}

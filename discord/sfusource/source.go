// Package sfusource feeds the Discord voice publisher from a party's SFU
// room: it joins as a hidden, subscribe-only LiveKit participant, subscribes
// to the ingest's `audio` track and forwards its Opus payloads as they are
// (no decoding, no re-encoding), with their RTP timestamps. A
// `marquee.playback` data packet whose state is paused or stopped becomes a
// pause marker, so the publisher sends silence frames at once.
package sfusource

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"

	"github.com/marquee-party/marquee/discord/voice"
	"github.com/marquee-party/marquee/internal/roomconv"
)

// frameQueue is how many frames wait for the publisher; beyond it the oldest
// are dropped (the publisher keeps its own, tighter latency budget).
const frameQueue = 50

// ErrClosed is returned by NextFrame after Close.
var ErrClosed = errors.New("sfusource: closed")

// rtpReader is what Source reads from; *webrtc.TrackRemote implements it.
type rtpReader interface {
	ReadRTP() (*rtp.Packet, interceptor.Attributes, error)
}

// Source is one room's audio as Opus frames. It implements
// discord.OpusSource.
type Source struct {
	log    *slog.Logger
	frames chan voice.Frame
	closed chan struct{}
	once   sync.Once // closes closed
	leave  sync.Once // calls disconnect
	wg     sync.WaitGroup
	// disconnect leaves the room; nil in tests.
	disconnect func()

	mu     sync.Mutex
	paused bool
	shut   bool // no new readers after Close
	drops  int
}

func newSource(log *slog.Logger) *Source {
	return &Source{log: log, frames: make(chan voice.Frame, frameQueue), closed: make(chan struct{})}
}

// NextFrame returns the next frame or pause marker.
func (s *Source) NextFrame(ctx context.Context) (voice.Frame, error) {
	select {
	case f := <-s.frames:
		return f, nil
	case <-s.closed:
		return voice.Frame{}, ErrClosed
	case <-ctx.Done():
		return voice.Frame{}, ctx.Err()
	}
}

// Close leaves the room and waits for the track readers.
func (s *Source) Close() error {
	s.end()
	s.leave.Do(func() {
		if s.disconnect != nil {
			s.disconnect()
		}
	})
	s.wg.Wait()
	return nil
}

// end makes NextFrame fail with ErrClosed, e.g. when the SFU dropped us;
// the owner then closes this Source and opens a new one.
func (s *Source) end() {
	s.once.Do(func() {
		s.mu.Lock()
		s.shut = true
		s.mu.Unlock()
		close(s.closed)
	})
}

// readTrack forwards RTP payloads from r until it fails or Close.
func (s *Source) readTrack(r rtpReader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shut {
		return
	}
	s.wg.Go(func() {
		for {
			pkt, _, err := r.ReadRTP()
			if err != nil {
				s.log.Info("audio track ended", "err", err)
				return
			}
			if len(pkt.Payload) == 0 {
				continue // padding-only packets carry no frame
			}
			s.mu.Lock()
			s.paused = false
			s.mu.Unlock()
			s.push(voice.Frame{Opus: append([]byte(nil), pkt.Payload...), Timestamp: pkt.Timestamp})
		}
	})
}

// playback handles a marquee.playback packet: entering paused or stopped
// queues one pause marker.
func (s *Source) playback(payload []byte) {
	var p struct {
		Type  string `json:"type"`
		State string `json:"state"`
	}
	if json.Unmarshal(payload, &p) != nil || p.Type != "playback" {
		return
	}
	stopped := p.State == "paused" || p.State == "stopped"
	s.mu.Lock()
	enter := stopped && !s.paused
	s.paused = stopped
	s.mu.Unlock()
	if enter {
		s.push(voice.Frame{Pause: true})
	}
}

// push queues f, dropping the oldest frame when the queue is full.
func (s *Source) push(f voice.Frame) {
	for {
		select {
		case <-s.closed:
			return
		case s.frames <- f:
			return
		default:
		}
		select {
		case <-s.frames:
			s.mu.Lock()
			s.drops++
			s.mu.Unlock()
		default:
		}
	}
}

// isIngest reports whether a participant is the party's ingest, from what
// the SFU vouches for: the identity the ingest's token names (nobody else
// is minted an ingest- identity) and the grant to publish (no person's
// token has it). Attributes are never trusted: they are what a participant
// says about itself.
func isIngest(identity string, perm *livekit.ParticipantPermission) bool {
	return roomconv.IsIngestIdentity(identity) && perm.GetCanPublish()
}

// onData handles a data packet: a marquee.playback report counts only
// when the ingest sent it. perm is the sender's permission as the SFU
// last announced it (nil for a packet the server itself sent).
func (s *Source) onData(topic string, payload []byte, sender string, perm *livekit.ParticipantPermission) {
	if topic != roomconv.TopicPlayback {
		return
	}
	if !isIngest(sender, perm) {
		s.log.Debug("playback report from a participant that is not the ingest ignored", "sender", sender)
		return
	}
	s.playback(payload)
}

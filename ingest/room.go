package ingest

import (
	"context"

	"github.com/marquee-party/marquee/media"
)

// Room is a session's presence in its party room on the SFU. The session
// goroutine is its only caller.
type Room interface {
	// Configure publishes the tracks info describes, replacing the current
	// ones when they differ; an empty Info unpublishes everything (stop).
	Configure(info media.Info) error
	// WriteVideo and WriteAudio send one timed frame.
	WriteVideo(f media.Frame) error
	WriteAudio(f media.Frame) error
	// SendPlayback sends a marquee.playback message (reliable data on that
	// topic) and, when changed, also sets it as participant attribute.
	SendPlayback(msg []byte, changed bool) error
	// Close leaves the room.
	Close()
}

// JoinParams describes the participant a session joins as.
type JoinParams struct {
	// Room is the SFU room name.
	Room string
	// Identity is ingest-<sessionId>.
	Identity string
	// OnKeyframe is called, from any goroutine, when the SFU asks for a
	// keyframe of video layer i (PLI or FIR).
	OnKeyframe func(layer int)
	// OnDisconnected is called, from any goroutine, when the connection
	// to the SFU is lost for good (the SDK's own resume gave up).
	OnDisconnected func()
}

// Connector joins rooms on the SFU.
type Connector interface {
	Join(ctx context.Context, p JoinParams) (Room, error)
}

// playbackMsgType is PlaybackMessage.Type; the room conventions (topics,
// attributes, identities, track names) are in internal/roomconv.
const playbackMsgType = "playback"

// RTPAnchor ties an RTP timestamp to a media position (milliseconds).
type RTPAnchor struct {
	TS         uint32 `json:"ts"`
	PositionMs int64  `json:"positionMs"`
}

// PlaybackMessage is the marquee.playback data message.
type PlaybackMessage struct {
	Type       string     `json:"type"`
	ItemID     string     `json:"itemId"`
	Title      string     `json:"title"`
	State      string     `json:"state"`
	PositionMs int64      `json:"positionMs"`
	DurationMs int64      `json:"durationMs"`
	SentAtMs   int64      `json:"sentAtMs"`
	VideoRTP   *RTPAnchor `json:"videoRtp,omitempty"`
	AudioRTP   *RTPAnchor `json:"audioRtp,omitempty"`
}

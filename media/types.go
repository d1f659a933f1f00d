package media

import "time"

// Frame is one encoded frame, timed and ready to packetize.
type Frame struct {
	// Layer indexes Info.Layers for video; 0 for audio.
	Layer int
	// Data is a VP8 frame, an H.264 Annex B access unit or an Opus packet.
	Data []byte
	// Keyframe is true for intra frames (and every Opus packet).
	Keyframe bool
	// Position is the media position of the frame's first sample.
	Position time.Duration
	// Timestamp is the RTP timestamp from the Timeline.
	Timestamp uint32
	// EncodeStart is when the pipeline began encoding this video frame
	// (wall clock), for latency measurements; zero for audio.
	EncodeStart time.Time
}

// Info describes an opened source and the tracks it will produce.
type Info struct {
	// Duration of the media, 0 when unknown (live or unseekable).
	Duration time.Duration
	// HasAudio is false for video without sound.
	HasAudio bool
	// AudioLanguage is the chosen audio stream's language tag, if any.
	AudioLanguage string
	// Layers lists the simulcast layers, lowest first; empty when the
	// source has no video (music).
	Layers []Layer
	// VideoCodec is CodecVP8 or CodecH264.
	VideoCodec string
}

// HasVideo reports whether a video track is produced.
func (i Info) HasVideo() bool { return len(i.Layers) > 0 }

// Sink receives a Player's output from the Player's goroutine. A Sink
// must not block for long: it is called at each frame's due time.
type Sink interface {
	// Configure is called once the source is open, before any frame, so
	// the sink can publish the tracks Info describes.
	Configure(Info) error
	// WriteVideo sends one frame of layer f.Layer.
	WriteVideo(f Frame) error
	// WriteAudio sends one Opus packet.
	WriteAudio(f Frame) error
}

// State is a Player's playback state.
type State string

// Playback states, as in the marquee.playback data message.
const (
	StateLoading State = "loading"
	StatePlaying State = "playing"
	StatePaused  State = "paused"
	StateStopped State = "stopped"
)

// Anchor ties an RTP timestamp to the media position shown at it, so a
// viewer can compute the position of any frame it renders.
type Anchor struct {
	Timestamp uint32
	Position  time.Duration
}

// Status is a snapshot of a Player.
type Status struct {
	State    State
	Position time.Duration
	Duration time.Duration
	// Video and Audio are valid once the first segment started.
	Video, Audio Anchor
	// SentUntil is when the last frame sent ends, on the Clock.
	SentUntil time.Time
	Info      Info
}

package media

import (
	"math/rand/v2"
	"time"
)

// RTP clock rates: 90 kHz for video (RFC 3551 §5) and 48 kHz for Opus
// (RFC 7587 §4.1).
const (
	VideoClockRate = 90000
	AudioClockRate = 48000
)

// Timeline maps monotonic wall-clock instants to RTP timestamps. A session
// keeps one Timeline across all its items, so RTP timestamps only move
// forward with real time, across pause, seek and item changes, and all
// simulcast layers share one clock base.
type Timeline struct {
	// T0 is the instant at which the timestamps equal the bases. It must
	// carry a monotonic reading (come from time.Now).
	T0 time.Time
	// VideoBase and AudioBase are the RTP timestamps at T0; random per
	// RFC 3550 §5.1.
	VideoBase, AudioBase uint32
}

// NewTimeline starts a timeline at now with random bases.
func NewTimeline(now time.Time) Timeline {
	return Timeline{T0: now, VideoBase: rand.Uint32(), AudioBase: rand.Uint32()}
}

// VideoTS is the 90 kHz RTP timestamp of instant at.
func (t Timeline) VideoTS(at time.Time) uint32 {
	return t.VideoBase + ticks(at.Sub(t.T0), VideoClockRate)
}

// AudioTS is the 48 kHz RTP timestamp of instant at.
func (t Timeline) AudioTS(at time.Time) uint32 {
	return t.AudioBase + ticks(at.Sub(t.T0), AudioClockRate)
}

func ticks(d time.Duration, rate int64) uint32 {
	return uint32(d.Nanoseconds() / 1000 * rate / 1_000_000)
}

// roundTicks converts a position offset to clock ticks, rounding to nearest.
func roundTicks(d time.Duration, rate int64) uint32 {
	return uint32((d.Nanoseconds()*rate + int64(time.Second)/2) / int64(time.Second))
}

// Package media turns anything FFmpeg reads into paced WebRTC-ready
// encoded frames: simulcast VP8 (or H.264) video layers and Opus audio.
//
// It knows nothing of rooms, parties or LiveKit. A Player opens a source,
// decodes it with libav (go-astiav), downmixes and resamples audio through a
// filter graph, scales video into layers that are never upscaled, encodes
// each layer in its own goroutine, and hands frames to a Sink at the moment
// their presentation timestamps say they are due, on a monotonic clock.
// RTP timestamps come from one shared Timeline, so they stay continuous
// across pause, seek and item changes, and every layer shares one clock base.
//
// Packetizer and VP8Payloader turn the encoded frames into RTP packets
// (RFC 7741 for VP8, RFC 6184 for H.264, RFC 7587 for Opus).
package media

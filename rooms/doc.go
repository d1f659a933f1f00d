// Package rooms is Marquee's selective forwarding unit: rooms of
// participants that speak LiveKit's signalling protocol (protobuf
// SignalRequest/SignalResponse over a WebSocket, see livekit/protocol's
// livekit_rtc.proto) so the stock LiveKit clients work unmodified.
//
// A Server serves the classic /rtc path (a publisher and a subscriber peer
// connection per participant, as server-sdk-go v2 uses) and the /rtc/v1 path
// (one peer connection whose client is always the offerer, livekit-client
// 2.x's default), the matching /validate endpoints, and LiveKit's Twirp
// RoomService. Each Room owns its membership in one goroutine; each
// participant owns its peer connections in another. Media is fanned out by a
// forwarder per published track (see forwarder.go).
package rooms

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
//
// The per-packet path to a viewer, which sets the SFU's CPU cost:
//   - one writer turn per viewer and frame on a shared pool
//     (forward.WriterPool);
//   - the turn's packets leave as one UDP GSO write on the muxed socket
//     (batch.go, internal/udpbatch), issued as raw non-blocking system
//     calls so the Go runtime does no syscall bookkeeping per datagram;
//   - for connections that only receive media, Marquee encrypts the SRTP
//     itself with keys learnt from pion's DTLS handshake and reads the
//     viewer's RTCP straight off the socket (direct.go,
//     internal/dtlskeys); pion still negotiates SDP, ICE and DTLS.
package rooms

// Package roomconv is the one definition of Marquee's conventions on top of
// LiveKit rooms: the identities the API and the ingest mint, the attribute
// keys and data topics, and which attributes only a token may carry. The
// SFU (rooms), the ingest, the party service and the Discord bridge import
// it; the web app (webapp/src/session.ts) mirrors these strings by hand and
// its tests pin them.
//
// Trust rule: a participant's identity and grants come from a token that
// the API, the ingest or the Discord bridge signs; attributes for which
// [IsTokenOnlyAttribute] holds are copied from that token or set by a RoomService
// admin, never by the participant itself. Receivers decide who the ingest
// is from the identity and grant, never from what the sender claims.
package roomconv

import "strings"

// Data topics (LiveKit UserPacket.topic).
const (
	// TopicPlayback carries the ingest's playback reports; only the ingest
	// may be believed on it.
	TopicPlayback = "marquee.playback"
	// TopicChat, TopicReaction and TopicSync are sent by viewers.
	TopicChat     = "marquee.chat"
	TopicReaction = "marquee.reaction"
	TopicSync     = "marquee.sync"
)

// Participant attribute keys.
const (
	// AttrRole is the party role (host, cohost, listener, ...) or
	// RoleIngest. It is token-only: see IsTokenOnlyAttribute.
	AttrRole = "marquee.role"
	// AttrPlayback is the ingest's latest playback report, for late joiners.
	AttrPlayback = "marquee.playback"
)

// RoleIngest is AttrRole's value on the ingest's token.
const RoleIngest = "ingest"

// Identities. The API mints UserIdentityPrefix identities for people only,
// the ingest IngestIdentityPrefix ones for itself only, the Discord bridge
// DiscordIdentityPrefix ones: a person can never hold an ingest identity.
const (
	IngestIdentityPrefix  = "ingest-"
	UserIdentityPrefix    = "user-"
	DiscordIdentityPrefix = "discord-"
)

// Track and participant names the ingest publishes under.
const (
	IngestName     = "Marquee"
	VideoTrackName = "video"
	AudioTrackName = "audio"
)

// IngestIdentity is the identity of the ingest session sessionID.
func IngestIdentity(sessionID string) string { return IngestIdentityPrefix + sessionID }

// IsIngestIdentity reports whether identity is one the ingest mints. It is
// only half of the test for "this is the ingest": also check the grant
// (the ingest's token may publish, a person's may not).
func IsIngestIdentity(identity string) bool {
	return strings.HasPrefix(identity, IngestIdentityPrefix)
}

// IsTokenOnlyAttribute reports whether key is an identity-bearing
// attribute: only a signed token or a RoomService admin sets it; a
// participant's own join request or metadata update may not set, change or
// delete it, even when its grant has canUpdateOwnMetadata.
func IsTokenOnlyAttribute(key string) bool { return key == AttrRole }

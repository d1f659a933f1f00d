package rooms

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// LimitConfig caps what a participant may make the server hold and relay,
// as LiveKit's `limit` section does (livekit/livekit pkg/config/config.go,
// whose defaults we keep), and how fast joins and metadata updates may come.
type LimitConfig struct {
	// MaxMetadataSize caps participant and room metadata, in bytes.
	MaxMetadataSize int `yaml:"max_metadata_size" usage:"largest participant or room metadata, in bytes (LiveKit's default 64000)"`
	// MaxAttributesSize caps a participant's attributes, keys plus values.
	MaxAttributesSize int `yaml:"max_attributes_size" usage:"largest total of a participant's attribute keys and values, in bytes"`
	// MaxParticipantNameLength caps a participant's name, in bytes.
	MaxParticipantNameLength int `yaml:"max_participant_name_length" usage:"longest participant name, in bytes"`
	// MaxParticipantIdentityLength caps a token's identity, in bytes.
	MaxParticipantIdentityLength int `yaml:"max_participant_identity_length" usage:"longest participant identity, in bytes"`
	// MaxRoomNameLength caps a room's name, in bytes.
	MaxRoomNameLength int `yaml:"max_room_name_length" usage:"longest room name, in bytes"`

	// JoinsPerSecondPerRoom and JoinBurstPerRoom form a token bucket on
	// new joins to one room; resumes are not counted.
	JoinsPerSecondPerRoom float64 `yaml:"joins_per_second_per_room" usage:"sustained new joins per second to one room"`
	JoinBurstPerRoom      int     `yaml:"join_burst_per_room" usage:"joins one room accepts at once before joins_per_second_per_room applies"`
	// JoinsPerSecondPerParticipant and JoinBurstPerParticipant bound
	// rejoins of one identity to one room.
	JoinsPerSecondPerParticipant float64 `yaml:"joins_per_second_per_participant" usage:"sustained joins per second of one identity to one room"`
	JoinBurstPerParticipant      int     `yaml:"join_burst_per_participant" usage:"joins of one identity accepted at once"`
	// MetadataPerSecondPerParticipant and MetadataBurstPerParticipant bound
	// a participant's own name, metadata and attribute updates.
	MetadataPerSecondPerParticipant float64 `yaml:"metadata_updates_per_second_per_participant" usage:"sustained metadata updates per second of one participant"`
	MetadataBurstPerParticipant     int     `yaml:"metadata_update_burst_per_participant" usage:"metadata updates one participant may make at once"`
	// MetadataPerSecondPerRoom and MetadataBurstPerRoom bound the sum of
	// all participants' own updates in one room (each one is sent to every
	// member).
	MetadataPerSecondPerRoom float64 `yaml:"metadata_updates_per_second_per_room" usage:"sustained participant metadata updates per second in one room"`
	MetadataBurstPerRoom     int     `yaml:"metadata_update_burst_per_room" usage:"participant metadata updates one room accepts at once"`
}

// DefaultLimits are LiveKit's default size limits and Marquee's rates.
func DefaultLimits() LimitConfig {
	return LimitConfig{
		MaxMetadataSize: 64000, MaxAttributesSize: 64000,
		MaxParticipantNameLength: 256, MaxParticipantIdentityLength: 256, MaxRoomNameLength: 256,
		JoinsPerSecondPerRoom: 10, JoinBurstPerRoom: 50,
		JoinsPerSecondPerParticipant: 1, JoinBurstPerParticipant: 5,
		MetadataPerSecondPerParticipant: 2, MetadataBurstPerParticipant: 10,
		MetadataPerSecondPerRoom: 20, MetadataBurstPerRoom: 100,
	}
}

// validate names the first bad limit key.
func (l LimitConfig) validate() error {
	sizes := []struct {
		key string
		v   int
	}{
		{"max_metadata_size", l.MaxMetadataSize}, {"max_attributes_size", l.MaxAttributesSize},
		{"max_participant_name_length", l.MaxParticipantNameLength},
		{"max_participant_identity_length", l.MaxParticipantIdentityLength},
		{"max_room_name_length", l.MaxRoomNameLength},
		{"join_burst_per_room", l.JoinBurstPerRoom}, {"join_burst_per_participant", l.JoinBurstPerParticipant},
		{"metadata_update_burst_per_participant", l.MetadataBurstPerParticipant},
		{"metadata_update_burst_per_room", l.MetadataBurstPerRoom},
	}
	for _, s := range sizes {
		if s.v <= 0 {
			return fmt.Errorf("limit.%s: %d must be positive", s.key, s.v)
		}
	}
	rates := []struct {
		key string
		v   float64
	}{
		{"joins_per_second_per_room", l.JoinsPerSecondPerRoom},
		{"joins_per_second_per_participant", l.JoinsPerSecondPerParticipant},
		{"metadata_updates_per_second_per_participant", l.MetadataPerSecondPerParticipant},
		{"metadata_updates_per_second_per_room", l.MetadataPerSecondPerRoom},
	}
	for _, r := range rates {
		if !(r.v > 0) {
			return fmt.Errorf("limit.%s: %v must be positive", r.key, r.v)
		}
	}
	return nil
}

// attributesSize is what LiveKit counts against max_attributes_size.
func attributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	return n
}

// checkParticipant returns ErrLimitExceeded naming the first field of a
// participant's state that is over its limit, and that field's metric label.
func (l LimitConfig) checkParticipant(name, metadata string, attrs map[string]string) (string, error) {
	switch {
	case len(name) > l.MaxParticipantNameLength:
		return "name", fmt.Errorf("%w: name is %d bytes, the limit is %d", ErrLimitExceeded, len(name), l.MaxParticipantNameLength)
	case len(metadata) > l.MaxMetadataSize:
		return "metadata", fmt.Errorf("%w: metadata is %d bytes, the limit is %d", ErrLimitExceeded, len(metadata), l.MaxMetadataSize)
	}
	if n := attributesSize(attrs); n > l.MaxAttributesSize {
		return "attributes", fmt.Errorf("%w: attributes total %d bytes, the limit is %d", ErrLimitExceeded, n, l.MaxAttributesSize)
	}
	return "", nil
}

// checkRoom is checkParticipant for a room's name and metadata.
func (l LimitConfig) checkRoom(name, metadata string) (string, error) {
	switch {
	case len(name) > l.MaxRoomNameLength:
		return "room_name", fmt.Errorf("%w: room name is %d bytes, the limit is %d", ErrLimitExceeded, len(name), l.MaxRoomNameLength)
	case len(metadata) > l.MaxMetadataSize:
		return "metadata", fmt.Errorf("%w: room metadata is %d bytes, the limit is %d", ErrLimitExceeded, len(metadata), l.MaxMetadataSize)
	}
	return "", nil
}

// identityLimiter is a token bucket per identity. Its owner (a room's
// goroutine) is its only user; buckets that have refilled are forgotten
// when the map grows, so it stays as small as the recent joiners.
type identityLimiter struct {
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newIdentityLimiter(perSecond float64, burst int) *identityLimiter {
	return &identityLimiter{every: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes one token from identity's bucket at now.
func (il *identityLimiter) allow(identity string, now time.Time) bool {
	l := il.m[identity]
	if l == nil {
		if len(il.m) >= 1024 {
			il.prune(now)
		}
		l = rate.NewLimiter(il.every, il.burst)
		il.m[identity] = l
	}
	return l.AllowN(now, 1)
}

// prune forgets full buckets: a new one would be the same.
func (il *identityLimiter) prune(now time.Time) {
	for id, l := range il.m {
		if l.TokensAt(now) >= float64(il.burst) {
			delete(il.m, id)
		}
	}
}

// Package party is Marquee's watch-party domain: parties (the control
// plane's "sessions"), their queues, events, members and worker state, the
// status machine, invites, per-user history, and the clients that drive the
// ingest worker and the SFU's RoomService.
package party

import (
	"errors"
)

// Errors returned by the package. The API maps them to JSON error codes;
// check them with errors.Is.
var (
	// ErrNotFound means no such party, entry or member.
	ErrNotFound = errors.New("not found")
	// ErrBadTransition means the status machine refuses the request.
	ErrBadTransition = errors.New("not allowed in this status")
	// ErrInvalid means a request field failed validation.
	ErrInvalid = errors.New("invalid")
	// ErrNothingToPlay means the queue has no entry waiting.
	ErrNothingToPlay = errors.New("nothing to play")
	// ErrWorker means the ingest worker refused or could not be reached.
	ErrWorker = errors.New("ingest worker")
	// ErrResolve means the library could not turn an entry into media.
	ErrResolve = errors.New("cannot resolve media")
	// ErrInviteInvalid means an invite token is malformed or its signature is wrong.
	ErrInviteInvalid = errors.New("invite is invalid")
	// ErrInviteExpired means an invite token is past its expiry.
	ErrInviteExpired = errors.New("invite has expired")
	// ErrInviteRevoked means the party's invites were revoked after minting.
	ErrInviteRevoked = errors.New("invite was revoked")
)

// Party is one watch party.
type Party struct {
	ID              int64  `json:"id"`
	GuildID         string `json:"guildId"`
	VoiceChannelID  string `json:"voiceChannelId"`
	TextChannelID   string `json:"textChannelId"`
	OwnerID         int64  `json:"ownerId"`
	Title           string `json:"title"`
	Status          Status `json:"status"`
	Room            string `json:"room"`
	WorkerSessionID string `json:"workerSessionId"`
	CurrentEntryID  *int64 `json:"currentEntryId"`
	InviteEpoch     uint32 `json:"inviteEpoch"`
	// StartsAtMs is the scheduled start (Unix ms), nil when unscheduled.
	StartsAtMs  *int64 `json:"startsAtMs"`
	CreatedAtMs int64  `json:"createdAtMs"`
	UpdatedAtMs int64  `json:"updatedAtMs"`
}

// EntryStatus is a queue entry's state.
type EntryStatus string

// Queue entry statuses.
const (
	EntryQueued  EntryStatus = "queued"
	EntryPlaying EntryStatus = "playing"
	EntryPlayed  EntryStatus = "played"
	EntrySkipped EntryStatus = "skipped"
	EntryFailed  EntryStatus = "failed"
)

// MediaType says what a queue entry is; the worker contract's mediaType.
type MediaType string

// Media types. Movies, episodes and tracks are files; a container (show,
// season, artist, album) resolves to its first unplayed file at play time.
const (
	MediaMovie   MediaType = "movie"
	MediaEpisode MediaType = "episode"
	MediaTrack   MediaType = "track"
	MediaShow    MediaType = "show"
	MediaSeason  MediaType = "season"
	MediaArtist  MediaType = "artist"
	MediaAlbum   MediaType = "album"
)

// Valid reports whether m is a known media type.
func (m MediaType) Valid() bool {
	switch m {
	case MediaMovie, MediaEpisode, MediaTrack, MediaShow, MediaSeason, MediaArtist, MediaAlbum:
		return true
	}
	return false
}

// Entry is one item in a party's queue. Artist and Album credit music, so
// that every viewer's player can show them; they are empty for other items.
type Entry struct {
	ID             int64       `json:"id"`
	PartyID        int64       `json:"partyId"`
	Position       int         `json:"position"`
	MediaType      MediaType   `json:"mediaType"`
	SourceID       string      `json:"sourceId"`
	Title          string      `json:"title"`
	Year           int         `json:"year"`
	RuntimeSeconds float64     `json:"runtimeSeconds"`
	Summary        string      `json:"summary"`
	PosterURL      string      `json:"posterUrl"`
	Artist         string      `json:"artist"`
	Album          string      `json:"album"`
	Status         EntryStatus `json:"status"`
	CreatedAtMs    int64       `json:"createdAtMs"`
	UpdatedAtMs    int64       `json:"updatedAtMs"`
}

// WorkerStatus is what the control plane believes of the ingest session.
type WorkerStatus string

// Worker statuses.
const (
	WorkerIdle     WorkerStatus = "idle"
	WorkerStarting WorkerStatus = "starting"
	WorkerActive   WorkerStatus = "active"
	WorkerLost     WorkerStatus = "lost"
	WorkerStopped  WorkerStatus = "stopped"
)

// WorkerState is the last thing the worker told us about a party.
type WorkerState struct {
	PartyID         int64        `json:"partyId"`
	WorkerSessionID string       `json:"workerSessionId"`
	Status          WorkerStatus `json:"status"`
	PlaybackState   string       `json:"playbackState"`
	QueueEntryID    *int64       `json:"queueEntryId"`
	PositionSeconds float64      `json:"positionSeconds"`
	DurationSeconds float64      `json:"durationSeconds"`
	LastHeartbeatMs int64        `json:"lastHeartbeatAtMs"`
	LastError       string       `json:"lastError"`
	Recoveries      int          `json:"recoveries"`
	UpdatedAtMs     int64        `json:"updatedAtMs"`
}

// Role is a participant's role inside one party.
type Role string

// Party roles. Only the ingest publishes media, whatever the role.
const (
	// RoleHost controls the party and may hand the role on.
	RoleHost Role = "host"
	// RoleCohost controls playback and the queue.
	RoleCohost Role = "cohost"
	// RoleListener watches, listens and chats.
	RoleListener Role = "listener"
)

// Valid reports whether r is a party role.
func (r Role) Valid() bool { return r == RoleHost || r == RoleCohost || r == RoleListener }

// CanControl reports whether r may drive playback, the queue and invites.
func (r Role) CanControl() bool { return r == RoleHost || r == RoleCohost }

// Member is a user's place in a party.
type Member struct {
	PartyID     int64  `json:"partyId"`
	UserID      int64  `json:"userId"`
	Role        Role   `json:"role"`
	JoinedAtMs  int64  `json:"joinedAtMs"`
	LeftAtMs    *int64 `json:"leftAtMs,omitempty"`
	DisplayName string `json:"displayName"`
}

// PartyEvent is one entry of a party's event log, also sent over SSE.
type PartyEvent struct {
	ID          int64  `json:"id"`
	PartyID     int64  `json:"partyId"`
	Type        string `json:"type"`
	Payload     any    `json:"payload"`
	CreatedAtMs int64  `json:"createdAtMs"`
}

// HistoryEntry is a user's resume point and play count for one item.
type HistoryEntry struct {
	UserID          int64   `json:"userId"`
	MediaType       string  `json:"mediaType"`
	SourceID        string  `json:"sourceId"`
	Title           string  `json:"title"`
	PositionSeconds float64 `json:"positionSeconds"`
	DurationSeconds float64 `json:"durationSeconds"`
	PlayCount       int     `json:"playCount"`
	LastPlayedAtMs  int64   `json:"lastPlayedAtMs"`
}

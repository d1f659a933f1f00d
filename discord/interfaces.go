package discord

import (
	"context"
	"time"

	"github.com/marquee-party/marquee/discord/voice"
)

// PartyControl is the party API the bot drives; the API side implements it
// with the same code the web app uses.
type PartyControl interface {
	// StartParty creates a party and starts playing item.
	StartParty(ctx context.Context, req StartRequest) (Party, error)
	// Stop ends a party.
	Stop(ctx context.Context, partyID string) error
	// Enqueue appends a catalog item to the party's queue.
	Enqueue(ctx context.Context, partyID, itemID string, by Requester) (QueueEntry, error)
	// Control pauses, resumes, seeks or skips.
	Control(ctx context.Context, partyID string, c Control) error
	// Invite returns a listener invite URL for the party.
	Invite(ctx context.Context, partyID string) (string, error)
}

// PartyInfo answers what the bot shows.
type PartyInfo interface {
	// NowPlaying returns the party's current state; ErrPartyOver (wrapped)
	// once it ended.
	NowPlaying(ctx context.Context, partyID string) (NowPlaying, error)
	// Queue lists the upcoming entries.
	Queue(ctx context.Context, partyID string) ([]QueueEntry, error)
	// Search finds catalog items for autocomplete, best first.
	Search(ctx context.Context, query string, limit int) ([]CatalogItem, error)
}

// AudioSources opens a party room's audio for the voice publisher.
type AudioSources interface {
	Open(ctx context.Context, room string) (OpusSource, error)
}

// OpusSource yields the party's Opus frames with their RTP timestamps, or a
// pause marker, without re-encoding.
type OpusSource interface {
	NextFrame(ctx context.Context) (voice.Frame, error)
	Close() error
}

// ProblemReporter receives problems the API should surface on the party
// (missing permission, DAVE required). Optional.
type ProblemReporter interface {
	ReportProblem(partyID string, err error)
}

// Requester is the Discord member behind a command.
type Requester struct {
	UserID   string
	Username string
}

// StartRequest asks for a party started from Discord.
type StartRequest struct {
	ItemID         string
	GuildID        string
	VoiceChannelID string
	TextChannelID  string
	Host           Requester
}

// Party is a started party.
type Party struct {
	ID        string
	Room      string // SFU room name
	InviteURL string
}

// CatalogItem is a library entry.
type CatalogItem struct {
	ID        string
	Title     string
	Year      int
	MediaType string // movie, episode, track
	PosterURL string
}

// QueueEntry is an item in a party's queue.
type QueueEntry struct {
	ID   string
	Item CatalogItem
}

// NowPlaying is a party's current state.
type NowPlaying struct {
	Item      CatalogItem
	State     string // playing, paused, stopped, loading
	Position  time.Duration
	Duration  time.Duration
	Viewers   int
	InviteURL string
}

// Control actions.
const (
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionSeek   = "seek"
	ActionSkip   = "skip"
)

// Control is one playback command.
type Control struct {
	Action   string
	Position time.Duration // for seek
}

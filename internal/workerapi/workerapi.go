// Package workerapi holds the wire types of the ingest worker API, the
// private HTTP contract between the control plane (package party, the
// client) and the ingest (package ingest, the server). One definition
// keeps both sides of the wire in step. Every route needs
// "Authorization: Bearer <worker secret>"; events go the other way, to the
// session's callback URL, with the same secret.
//
//	POST   /sessions               CreateSession → 201
//	POST   /sessions/{id}/play     Play
//	POST   /sessions/{id}/control  Control
//	GET    /sessions/{id}          → Status
//	DELETE /sessions/{id}
//	POST   <callbackUrl>           Event (heartbeats every HeartbeatMs, 1 s by default)
package workerapi

// CreateSession is the body of POST /sessions: join the room as the
// party's publisher.
type CreateSession struct {
	SessionID      string `json:"sessionId"`
	Room           string `json:"room"`
	GuildID        string `json:"guildId,omitempty"`
	VoiceChannelID string `json:"voiceChannelId,omitempty"`
	TextChannelID  string `json:"textChannelId,omitempty"`
	CallbackURL    string `json:"callbackUrl,omitempty"`
	// HeartbeatMs is the period of heartbeat events the control plane
	// watches for, in milliseconds (at least MinHeartbeatMs); 0 means the
	// worker's own default. The control plane declares a worker lost
	// after 2.5 periods without one and restarts it at the last position
	// heard, so a short period finds a loss sooner and resumes closer to
	// where viewers were.
	HeartbeatMs int64 `json:"heartbeatMs,omitempty"`
}

// MinHeartbeatMs is the shortest heartbeat period a worker accepts.
const MinHeartbeatMs = 100

// Playback says where an item's media is: StreamURL is tried first,
// DownloadURL is the fallback; each is a local path or an http(s) URL.
type Playback struct {
	ItemID          string  `json:"itemId"`
	StreamURL       string  `json:"streamUrl"`
	DownloadURL     string  `json:"downloadUrl,omitempty"`
	DurationSeconds float64 `json:"durationSeconds"`
	PosterURL       string  `json:"posterUrl,omitempty"`
	StartSeconds    float64 `json:"startSeconds"`
}

// Play is the body of POST /sessions/{id}/play. MediaType is movie,
// episode or track.
type Play struct {
	QueueEntryID string   `json:"queueEntryId"`
	Title        string   `json:"title"`
	MediaType    string   `json:"mediaType"`
	Playback     Playback `json:"playback"`
}

// Control is the body of POST /sessions/{id}/control; PositionSeconds
// goes with ActionSeek.
type Control struct {
	Action          string   `json:"action"`
	PositionSeconds *float64 `json:"positionSeconds,omitempty"`
}

// Control actions.
const (
	ActionPause  = "pause"
	ActionResume = "resume"
	ActionSeek   = "seek"
	ActionSkip   = "skip"
	ActionStop   = "stop"
)

// KnownAction reports whether a is one of the control actions.
func KnownAction(a string) bool {
	switch a {
	case ActionPause, ActionResume, ActionSeek, ActionSkip, ActionStop:
		return true
	}
	return false
}

// CodeUnknownAction is the error code (HTTP 400) of a control request
// whose action is none of the control actions.
const CodeUnknownAction = "unknown_action"

// MaxPositionSeconds bounds every position in the contract (a seek's
// PositionSeconds, a play's StartSeconds): 11.5 days, far beyond any
// media, and far below what overflows a time.Duration.
const MaxPositionSeconds = 1_000_000

// ValidPosition reports whether s is a position either side may turn into
// a time.Duration: 0 ≤ s ≤ MaxPositionSeconds (NaN is not).
func ValidPosition(s float64) bool { return s >= 0 && s <= MaxPositionSeconds }

// Status is the body of GET /sessions/{id}.
type Status struct {
	SessionID       string  `json:"sessionId"`
	WorkerStatus    string  `json:"workerStatus"`
	PlaybackState   string  `json:"playbackState"`
	CurrentTitle    string  `json:"currentTitle"`
	QueueEntryID    string  `json:"queueEntryId"`
	PositionSeconds float64 `json:"positionSeconds"`
	DurationSeconds float64 `json:"durationSeconds"`
	LastError       string  `json:"lastError"`
}

// Worker statuses, in Status.WorkerStatus.
const (
	StatusStarting = "starting" // joining the room
	StatusReady    = "ready"    // in the room, nothing playing
	StatusPlaying  = "playing"  // an item is loaded (playing or paused)
	StatusFailed   = "failed"   // the room could not be joined
	StatusClosed   = "closed"   // the session was stopped or deleted
)

// Event is POSTed to the session's callback URL.
type Event struct {
	SessionID       string  `json:"sessionId"`
	Type            string  `json:"type"`
	QueueEntryID    string  `json:"queueEntryId"`
	PositionSeconds float64 `json:"positionSeconds"`
	PlaybackState   string  `json:"playbackState"`
	Error           string  `json:"error,omitempty"`
	AtMs            int64   `json:"atMs"`
}

// Event types. "ended" and "failed" tell the control plane to advance the
// queue.
const (
	EventHeartbeat = "heartbeat"
	EventStarted   = "started"
	EventPaused    = "paused"
	EventResumed   = "resumed"
	EventEnded     = "ended"
	EventFailed    = "failed"
)

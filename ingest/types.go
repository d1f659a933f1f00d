package ingest

// CreateRequest is the body of POST /sessions.
type CreateRequest struct {
	SessionID      string `json:"sessionId"`
	Room           string `json:"room"`
	GuildID        string `json:"guildId,omitempty"`
	VoiceChannelID string `json:"voiceChannelId,omitempty"`
	TextChannelID  string `json:"textChannelId,omitempty"`
	CallbackURL    string `json:"callbackUrl,omitempty"`
}

// PlayRequest is the body of POST /sessions/{id}/play.
type PlayRequest struct {
	QueueEntryID string       `json:"queueEntryId"`
	Title        string       `json:"title"`
	MediaType    string       `json:"mediaType"`
	Playback     PlaybackItem `json:"playback"`
}

// PlaybackItem says where an item's media is; StreamURL is tried first,
// DownloadURL is the fallback. Each is a library path or an http(s) URL.
type PlaybackItem struct {
	ItemID          string  `json:"itemId"`
	StreamURL       string  `json:"streamUrl"`
	DownloadURL     string  `json:"downloadUrl"`
	DurationSeconds float64 `json:"durationSeconds"`
	PosterURL       string  `json:"posterUrl"`
	StartSeconds    float64 `json:"startSeconds"`
}

// ControlRequest is the body of POST /sessions/{id}/control.
type ControlRequest struct {
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

// SessionStatus is the body of GET /sessions/{id}.
type SessionStatus struct {
	SessionID       string  `json:"sessionId"`
	WorkerStatus    string  `json:"workerStatus"`
	PlaybackState   string  `json:"playbackState"`
	CurrentTitle    string  `json:"currentTitle"`
	QueueEntryID    string  `json:"queueEntryId"`
	PositionSeconds float64 `json:"positionSeconds"`
	DurationSeconds float64 `json:"durationSeconds"`
	LastError       string  `json:"lastError"`
}

// Worker statuses.
const (
	WorkerStarting = "starting" // joining the room
	WorkerReady    = "ready"    // in the room, nothing playing
	WorkerPlaying  = "playing"  // an item is loaded (playing or paused)
	WorkerFailed   = "failed"   // the room could not be joined
	WorkerClosed   = "closed"
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

// Event types.
const (
	EventHeartbeat = "heartbeat"
	EventStarted   = "started"
	EventPaused    = "paused"
	EventResumed   = "resumed"
	EventEnded     = "ended"
	EventFailed    = "failed"
)

package ingest

import "github.com/marquee-party/marquee/internal/workerapi"

// The worker API's wire types and constants are defined once, in
// internal/workerapi, and shared with the control plane's client.
type (
	// CreateRequest is the body of POST /sessions.
	CreateRequest = workerapi.CreateSession
	// PlayRequest is the body of POST /sessions/{id}/play.
	PlayRequest = workerapi.Play
	// PlaybackItem says where an item's media is.
	PlaybackItem = workerapi.Playback
	// ControlRequest is the body of POST /sessions/{id}/control.
	ControlRequest = workerapi.Control
	// SessionStatus is the body of GET /sessions/{id}.
	SessionStatus = workerapi.Status
	// Event is POSTed to the session's callback URL.
	Event = workerapi.Event
)

// Control actions.
const (
	ActionPause  = workerapi.ActionPause
	ActionResume = workerapi.ActionResume
	ActionSeek   = workerapi.ActionSeek
	ActionSkip   = workerapi.ActionSkip
	ActionStop   = workerapi.ActionStop
)

// Worker statuses.
const (
	WorkerStarting = workerapi.StatusStarting
	WorkerReady    = workerapi.StatusReady
	WorkerPlaying  = workerapi.StatusPlaying
	WorkerFailed   = workerapi.StatusFailed
	WorkerClosed   = workerapi.StatusClosed
)

// Event types.
const (
	EventHeartbeat = workerapi.EventHeartbeat
	EventStarted   = workerapi.EventStarted
	EventPaused    = workerapi.EventPaused
	EventResumed   = workerapi.EventResumed
	EventEnded     = workerapi.EventEnded
	EventFailed    = workerapi.EventFailed
)

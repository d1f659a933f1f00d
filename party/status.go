package party

import "fmt"

// Status is a party's lifecycle state, the Discord control plane's
// session status.
type Status string

// Party statuses.
const (
	// StatusDraft has an empty queue.
	StatusDraft Status = "draft"
	// StatusQueued has entries waiting and nothing playing.
	StatusQueued Status = "queued"
	// StatusConnecting asked the ingest to play and waits for "started".
	StatusConnecting Status = "connecting"
	// StatusPlaying is publishing media.
	StatusPlaying Status = "playing"
	// StatusPaused holds the current entry at a position.
	StatusPaused Status = "paused"
	// StatusStopped ended by request or by reaching the end of the queue.
	StatusStopped Status = "stopped"
	// StatusError means the ingest failed and the party needs a new play.
	StatusError Status = "error"
)

// Statuses lists every status, for tests and the API document.
var Statuses = []Status{StatusDraft, StatusQueued, StatusConnecting, StatusPlaying, StatusPaused, StatusStopped, StatusError}

// Event is what moves a party from one status to another.
type Event string

// Status machine events.
const (
	// EvEnqueue: the queue gained an entry.
	EvEnqueue Event = "enqueue"
	// EvQueueEmptied: the last waiting entry was removed.
	EvQueueEmptied Event = "queue-emptied"
	// EvPlay: the control plane asked the ingest to play an entry (a user's
	// play or skip, an auto-advance, or a recovery).
	EvPlay Event = "play"
	// EvStarted: the ingest reports media flowing (started, resumed, or a
	// heartbeat with playbackState=playing).
	EvStarted Event = "started"
	// EvPaused: a pause was requested or reported.
	EvPaused Event = "paused"
	// EvFinished: the queue ran out.
	EvFinished Event = "finished"
	// EvStop: a user stopped the party.
	EvStop Event = "stop"
	// EvFail: the ingest could not be driven.
	EvFail Event = "fail"
)

// Next returns the status a party in from moves to on ev, or an
// ErrBadTransition error naming both. The machine, without the self-loops
// that enqueue and queue-emptied make on active parties:
//
//	draft --enqueue--> queued --play--> connecting --started--> playing
//	queued --queue-emptied--> draft             playing <--started-- paused
//	connecting|playing|paused --paused--> paused
//	connecting|playing|paused --play (skip, advance, recovery)--> connecting
//	connecting|playing|paused --finished--> stopped
//	connecting|playing|paused --fail--> error
//	stopped|error --play--> connecting
//	any status --stop--> stopped
func Next(from Status, ev Event) (Status, error) {
	to, ok := transitions[from][ev]
	if !ok {
		return from, fmt.Errorf("%w: cannot %s a party that is %s", ErrBadTransition, ev, from)
	}
	return to, nil
}

// transitions is the whole machine. An event absent from a status's row is
// refused; EvEnqueue and EvQueueEmptied leave active parties alone.
var transitions = map[Status]map[Event]Status{
	StatusDraft: {
		EvEnqueue: StatusQueued, EvQueueEmptied: StatusDraft, EvStop: StatusStopped,
	},
	StatusQueued: {
		EvEnqueue: StatusQueued, EvQueueEmptied: StatusDraft, EvPlay: StatusConnecting, EvStop: StatusStopped,
	},
	StatusConnecting: {
		EvEnqueue: StatusConnecting, EvQueueEmptied: StatusConnecting, EvPlay: StatusConnecting,
		EvStarted: StatusPlaying, EvPaused: StatusPaused, EvFinished: StatusStopped,
		EvStop: StatusStopped, EvFail: StatusError,
	},
	StatusPlaying: {
		EvEnqueue: StatusPlaying, EvQueueEmptied: StatusPlaying, EvPlay: StatusConnecting,
		EvStarted: StatusPlaying, EvPaused: StatusPaused, EvFinished: StatusStopped,
		EvStop: StatusStopped, EvFail: StatusError,
	},
	StatusPaused: {
		EvEnqueue: StatusPaused, EvQueueEmptied: StatusPaused, EvPlay: StatusConnecting,
		EvStarted: StatusPlaying, EvPaused: StatusPaused, EvFinished: StatusStopped,
		EvStop: StatusStopped, EvFail: StatusError,
	},
	StatusStopped: {
		EvEnqueue: StatusStopped, EvQueueEmptied: StatusStopped, EvPlay: StatusConnecting, EvStop: StatusStopped,
	},
	StatusError: {
		EvEnqueue: StatusError, EvQueueEmptied: StatusError, EvPlay: StatusConnecting, EvStop: StatusStopped,
		EvFail: StatusError,
	},
}

// Active reports whether the ingest should be running for s.
func (s Status) Active() bool {
	return s == StatusConnecting || s == StatusPlaying || s == StatusPaused
}

package rooms

import "errors"

// Errors returned by the rooms package. Errors a client sees carry these as
// their cause; check them with errors.Is.
var (
	// ErrUnauthorized means the access token is missing, malformed, signed
	// with an unknown key or expired.
	ErrUnauthorized = errors.New("rooms: unauthorized")
	// ErrPermissionDenied means the token is valid but lacks the grant.
	ErrPermissionDenied = errors.New("rooms: permission denied")
	// ErrRoomNotFound means no room has the requested name.
	ErrRoomNotFound = errors.New("rooms: room not found")
	// ErrParticipantNotFound means the room has no such participant.
	ErrParticipantNotFound = errors.New("rooms: participant not found")
	// ErrTrackNotFound means the participant has no such track.
	ErrTrackNotFound = errors.New("rooms: track not found")
	// ErrRoomClosed means the room was closed while the call was waiting.
	ErrRoomClosed = errors.New("rooms: room closed")
	// ErrBadRequest means a client message was malformed or out of order.
	ErrBadRequest = errors.New("rooms: bad request")
	// ErrRoomFull means the room's participant limit is reached.
	ErrRoomFull = errors.New("rooms: room full")
	// ErrLimitExceeded means a name, metadata or attributes are larger
	// than the configured limit (Config.Limit).
	ErrLimitExceeded = errors.New("rooms: limit exceeded")
	// ErrRateLimited means joins or metadata updates came faster than the
	// configured rate; retry later.
	ErrRateLimited = errors.New("rooms: rate limited")
)

package ingest

import (
	"errors"
	"fmt"
)

// Errors of this package, checked with errors.Is.
var (
	// ErrPathNotAllowed: a local path outside media.roots, or a URL scheme
	// other than http(s).
	ErrPathNotAllowed = errors.New("ingest: media path not allowed")
	// ErrNoSource: a play request without streamUrl or downloadUrl.
	ErrNoSource = errors.New("ingest: no stream or download URL")
	// ErrSessionExists: POST /sessions for an id already running.
	ErrSessionExists = errors.New("ingest: session exists")
	// ErrSessionNotFound: an unknown session id.
	ErrSessionNotFound = errors.New("ingest: session not found")
	// ErrSessionClosed: the session ended while the request waited.
	ErrSessionClosed = errors.New("ingest: session closed")
	// ErrNothingPlaying: a control action without a current item.
	ErrNothingPlaying = errors.New("ingest: nothing playing")
	// ErrBadRequest: a malformed request body.
	ErrBadRequest = errors.New("ingest: bad request")
	// ErrRoom: joining or publishing into the SFU room failed.
	ErrRoom = errors.New("ingest: room")
)

// APIError is the JSON error body of the worker API.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *APIError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

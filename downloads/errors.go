package downloads

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a refusal or failure a client sees: an HTTP status, a stable
// code, the rule that refused (when one did) and what to do.
type Error struct {
	Status  int
	Code    string
	Rule    string
	Message string
}

// Error formats the code, rule and message.
func (e *Error) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("downloads: %s (rule %s): %s", e.Code, e.Rule, e.Message)
	}
	return fmt.Sprintf("downloads: %s: %s", e.Code, e.Message)
}

func refuse(status int, code, rule, format string, a ...any) *Error {
	return &Error{Status: status, Code: code, Rule: rule, Message: fmt.Sprintf(format, a...)}
}

// Errors of the package, checked with errors.Is or errors.As (*Error).
var (
	// ErrNotFound means no such job, device, item or file for this user;
	// items the user may not see are not found either.
	ErrNotFound = &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such download, device or item"}
	// ErrInvalid means a request is malformed.
	ErrInvalid = errors.New("downloads: invalid request")
	// ErrDiskFull means the downloads folder ran out of space while a file
	// was prepared; the partial file is deleted.
	ErrDiskFull = errors.New("downloads: the downloads folder is full")
	// ErrNoStreams means the source lacks what the profile needs (audio
	// for the audio profile).
	ErrNoStreams = errors.New("downloads: missing streams")
	// ErrClosed means the service is shutting down.
	ErrClosed = errors.New("downloads: service closed")
)

// invalid is a 400 with code bad_request.
func invalid(format string, a ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, a...)}
}

// Is lets errors.Is(err, ErrNotFound) match any not-found *Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Rule == "" && t.Status == e.Status
}

package party

import (
	"errors"
	"fmt"
	"net/http"
)

// WorkerFailure is a worker command that failed, as people are told about
// it: Headline says what happened and what to do; Err keeps the details
// (URLs, transport errors) for the party log and the server log.
type WorkerFailure struct {
	Headline string
	Err      error
}

// Error is the headline: it is what API clients show.
func (e *WorkerFailure) Error() string { return e.Headline }

// Unwrap exposes the details, so errors.Is(err, ErrWorker) still matches.
func (e *WorkerFailure) Unwrap() error { return e.Err }

// Headlines of worker failures.
const (
	// HeadlineWorkerDown: the worker could not be reached or did not answer in time.
	HeadlineWorkerDown = "The media worker did not answer; check that cmd/ingest is running (./scripts/run.sh starts it)"
	// HeadlineWorkerSecret: the worker refused the API's bearer secret.
	HeadlineWorkerSecret = "The media worker refused the API's secret; set the same secret as worker.secret of cmd/api and worker_secret of cmd/ingest"
	// HeadlineWorkerProtocol: the worker's answer could not be read.
	HeadlineWorkerProtocol = "The media worker's answer could not be read; check that cmd/api and cmd/ingest are the same version"
)

// ExplainWorker turns an error of a Worker call into a WorkerFailure. An
// error that already is one is returned as is.
func ExplainWorker(err error) *WorkerFailure {
	var wf *WorkerFailure
	if errors.As(err, &wf) {
		return wf
	}
	var we *WorkerError
	switch {
	case errors.As(err, &we) && (we.Status == http.StatusUnauthorized || we.Status == http.StatusForbidden):
		return &WorkerFailure{Headline: HeadlineWorkerSecret, Err: err}
	case errors.As(err, &we):
		msg := we.Message
		if msg == "" {
			msg = http.StatusText(we.Status)
		}
		return &WorkerFailure{Headline: fmt.Sprintf("The media worker could not play this (%s); see the ingest's log for details", msg), Err: err}
	case isDecodeError(err):
		return &WorkerFailure{Headline: HeadlineWorkerProtocol, Err: err}
	default:
		// Refused connections, timeouts, resets: nobody answered.
		return &WorkerFailure{Headline: HeadlineWorkerDown, Err: err}
	}
}

// errWorkerDecode marks an answer of the worker that could not be decoded.
var errWorkerDecode = errors.New("undecodable answer")

func isDecodeError(err error) bool { return errors.Is(err, errWorkerDecode) }

package party

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// Worker is the ingest worker API as the party service uses it. It is
// implemented by WorkerClient; tests may use a fake HTTP server instead.
type Worker interface {
	CreateSession(ctx context.Context, req CreateSessionRequest) error
	Play(ctx context.Context, sessionID string, req PlayRequest) error
	Control(ctx context.Context, sessionID string, req ControlRequest) error
	Session(ctx context.Context, sessionID string) (WorkerSession, error)
	DeleteSession(ctx context.Context, sessionID string) error
}

// The worker API's wire types are defined once, in internal/workerapi,
// and shared with the ingest that serves them.
type (
	// CreateSessionRequest is POST /sessions of the worker API.
	CreateSessionRequest = workerapi.CreateSession
	// Playback is the media target of a play request.
	Playback = workerapi.Playback
	// PlayRequest is POST /sessions/{id}/play of the worker API.
	PlayRequest = workerapi.Play
	// ControlRequest is POST /sessions/{id}/control of the worker API.
	ControlRequest = workerapi.Control
	// WorkerSession is GET /sessions/{id} of the worker API.
	WorkerSession = workerapi.Status
	// WorkerEvent is what the worker POSTs to the callback URL.
	WorkerEvent = workerapi.Event
)

// WorkerError is a non-2xx answer of the worker, carrying its JSON error.
type WorkerError struct {
	Status  int
	Code    string
	Message string
}

// Error formats the worker's status, code and message.
func (e *WorkerError) Error() string {
	return fmt.Sprintf("ingest worker: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap lets errors.Is(err, ErrWorker) match.
func (e *WorkerError) Unwrap() error { return ErrWorker }

// WorkerClient speaks the ingest worker's HTTP API with its bearer secret.
type WorkerClient struct {
	base   string
	secret string
	hc     *http.Client
}

// NewWorkerClient returns a client for the worker at baseURL.
func NewWorkerClient(baseURL, secret string, hc *http.Client) *WorkerClient {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &WorkerClient{base: strings.TrimRight(baseURL, "/"), secret: secret, hc: hc}
}

// CreateSession starts a worker session publishing into req.Room.
func (c *WorkerClient) CreateSession(ctx context.Context, req CreateSessionRequest) error {
	return c.do(ctx, http.MethodPost, "/sessions", req, nil)
}

// Play asks the session to play an item from Playback.StartSeconds.
func (c *WorkerClient) Play(ctx context.Context, id string, req PlayRequest) error {
	return c.do(ctx, http.MethodPost, "/sessions/"+url.PathEscape(id)+"/play", req, nil)
}

// Control pauses, resumes, seeks, skips or stops the session.
func (c *WorkerClient) Control(ctx context.Context, id string, req ControlRequest) error {
	return c.do(ctx, http.MethodPost, "/sessions/"+url.PathEscape(id)+"/control", req, nil)
}

// Session returns the worker's view of a session.
func (c *WorkerClient) Session(ctx context.Context, id string) (WorkerSession, error) {
	var out WorkerSession
	err := c.do(ctx, http.MethodGet, "/sessions/"+url.PathEscape(id), nil, &out)
	return out, err
}

// DeleteSession ends a session; a session the worker does not know is not an error.
func (c *WorkerClient) DeleteSession(ctx context.Context, id string) error {
	err := c.do(ctx, http.MethodDelete, "/sessions/"+url.PathEscape(id), nil, nil)
	var we *WorkerError
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		return nil
	}
	return err
}

func (c *WorkerClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%w: encode: %w", ErrWorker, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWorker, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrWorker, method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		we := &WorkerError{Status: resp.StatusCode}
		var e struct{ Code, Message string }
		if json.Unmarshal(b, &e) == nil {
			we.Code, we.Message = e.Code, e.Message
		} else {
			we.Message = strings.TrimSpace(string(b))
		}
		return we
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%w: %w: decode %s %s: %w", ErrWorker, errWorkerDecode, method, path, err)
		}
	}
	return nil
}

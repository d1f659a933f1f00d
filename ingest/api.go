package ingest

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// maxBody bounds request bodies of the worker API.
const maxBody = 64 << 10

// Handler returns the worker API. Every route requires
// "Authorization: Bearer <secret>"; mount the ops endpoints (/healthz,
// /readyz, /metrics) beside it, outside this handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sessions", s.handleCreate)
	mux.HandleFunc("POST /sessions/{id}/play", s.handlePlay)
	mux.HandleFunc("POST /sessions/{id}/control", s.handleControl)
	mux.HandleFunc("GET /sessions/{id}", s.handleGet)
	mux.HandleFunc("DELETE /sessions/{id}", s.handleDelete)
	return s.auth(mux)
}

// auth refuses requests without the bearer secret, comparing in constant
// time so the secret cannot be guessed byte by byte from response times.
func (s *Server) auth(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.cfg.Secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			s.metrics.authFailures.Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="marquee-ingest"`)
			writeError(w, &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "missing or wrong bearer secret"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if !decode(w, r, &req) {
		return
	}
	st, err := s.Create(req)
	if err != nil {
		writeError(w, apiError(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"sessionId": st.SessionID, "workerStatus": st.WorkerStatus})
}

func (s *Server) handlePlay(w http.ResponseWriter, r *http.Request) {
	var req PlayRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.Play(r.Context(), r.PathValue("id"), req); err != nil {
		writeError(w, apiError(err))
		return
	}
	s.writeStatus(w, r.PathValue("id"), http.StatusAccepted)
}

func (s *Server) handleControl(w http.ResponseWriter, r *http.Request) {
	var req ControlRequest
	if !decode(w, r, &req) {
		return
	}
	if err := s.Control(r.Context(), r.PathValue("id"), req); err != nil {
		writeError(w, apiError(err))
		return
	}
	s.writeStatus(w, r.PathValue("id"), http.StatusOK)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	s.writeStatus(w, r.PathValue("id"), http.StatusOK)
}

func (s *Server) writeStatus(w http.ResponseWriter, id string, code int) {
	st, err := s.Status(id)
	if err != nil {
		writeError(w, apiError(err))
		return
	}
	writeJSON(w, code, st)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.Delete(r.PathValue("id")); err != nil {
		writeError(w, apiError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiError maps this package's errors to HTTP statuses and codes.
func apiError(err error) *APIError {
	var api *APIError
	switch {
	case errors.As(err, &api):
		return api
	case errors.Is(err, ErrSessionNotFound):
		return &APIError{http.StatusNotFound, "session_not_found", err.Error()}
	case errors.Is(err, ErrSessionExists):
		return &APIError{http.StatusConflict, "session_exists", err.Error()}
	case errors.Is(err, ErrNothingPlaying):
		return &APIError{http.StatusConflict, "nothing_playing", err.Error()}
	case errors.Is(err, ErrBadRequest):
		return &APIError{http.StatusBadRequest, "bad_request", err.Error()}
	case errors.Is(err, ErrRoom):
		return &APIError{http.StatusBadGateway, "room_unavailable", err.Error()}
	case errors.Is(err, ErrSessionClosed):
		return &APIError{http.StatusGone, "session_closed", err.Error()}
	}
	return &APIError{http.StatusInternalServerError, "internal", err.Error()}
}

// decode reads a JSON body; unknown fields are ignored so the control
// plane can add some without breaking older workers.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(v); err != nil {
		writeError(w, &APIError{http.StatusBadRequest, "bad_request", "invalid JSON body: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *APIError) {
	writeJSON(w, e.Status, e)
}

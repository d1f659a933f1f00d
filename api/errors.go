package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// Error is the JSON body of every failed API call: {"code","message"}.
// Code is stable and machine-readable; Message is for people.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error formats the status, code and message.
func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func apiErr(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// ErrNoSigner means no cdn.url_secret is configured, so the API cannot
// sign links that work without a session.
var ErrNoSigner = errors.New("api: no signing key: set cdn.url_secret")

// Errors the API itself raises.
var (
	errUnauthorized  = apiErr(http.StatusUnauthorized, "unauthorized", "sign in first, or send a valid bearer token")
	errForbidden     = apiErr(http.StatusForbidden, "forbidden", "your account may not do this")
	errCrossOrigin   = apiErr(http.StatusForbidden, "cross_origin", "cross-site request refused")
	errNotFoundRoute = apiErr(http.StatusNotFound, "not_found", "no such API route")
)

func badRequest(format string, a ...any) *Error {
	return apiErr(http.StatusBadRequest, "bad_request", fmt.Sprintf(format, a...))
}

// errorTable maps package error values to HTTP statuses and codes.
var errorTable = []struct {
	err    error
	status int
	code   string
}{
	{party.ErrInviteExpired, http.StatusUnauthorized, "invite_expired"},
	{party.ErrInviteInvalid, http.StatusUnauthorized, "invite_invalid"},
	{party.ErrInviteRevoked, http.StatusUnauthorized, "invite_revoked"},
	{auth.ErrLinkUsed, http.StatusUnauthorized, "link_used"},
	{auth.ErrExpired, http.StatusUnauthorized, "expired"},
	{auth.ErrInvalidCredentials, http.StatusUnauthorized, "invalid_credentials"},
	{auth.ErrNotFound, http.StatusNotFound, "not_found"},
	{auth.ErrConflict, http.StatusConflict, "conflict"},
	{auth.ErrInvalid, http.StatusBadRequest, "invalid"},
	{party.ErrNotFound, http.StatusNotFound, "not_found"},
	{party.ErrBadTransition, http.StatusConflict, "bad_status"},
	{party.ErrNothingToPlay, http.StatusConflict, "nothing_to_play"},
	{party.ErrInvalid, http.StatusBadRequest, "invalid"},
	{party.ErrResolve, http.StatusUnprocessableEntity, "unresolvable"},
	{party.ErrWorker, http.StatusBadGateway, "worker_unavailable"},
	{library.ErrNotFound, http.StatusNotFound, "not_found"},
	{library.ErrNoPoster, http.StatusNotFound, "no_poster"},
	{library.ErrInvalid, http.StatusBadRequest, "invalid"},
	{library.ErrExists, http.StatusConflict, "conflict"},
	{library.ErrNotPlayable, http.StatusUnprocessableEntity, "not_playable"},
	{library.ErrScanRunning, http.StatusConflict, "scan_running"},
}

// toError turns any error into the JSON error a client sees. Unknown
// errors become a 500 whose message reveals nothing internal.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, m := range errorTable {
		if errors.Is(err, m.err) {
			return apiErr(m.status, m.code, err.Error())
		}
	}
	return apiErr(http.StatusInternalServerError, "internal", "internal error")
}

func writeError(w http.ResponseWriter, err error) {
	e := toError(err)
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="marquee"`)
	}
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// decode reads a JSON body into v. An empty body leaves v as it is.
func decode(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return badRequest("request body is not valid JSON: %v", err)
	}
	return nil
}

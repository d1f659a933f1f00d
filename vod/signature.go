package vod

import (
	"errors"
	"net/http"

	"github.com/marquee-party/marquee/cdn"
)

// refuseSignature answers a URL whose signature failed with the same 403
// codes a CDN node uses (cdn.CodeSignature*), so a player can tell an
// expired link, which a fresh playlist URL fixes, from a forged one.
func refuseSignature(w http.ResponseWriter, err error) {
	code, msg := cdn.CodeSignatureInvalid, "this link's signature does not match; ask the API for a new playlist URL (GET /api/items/{id}/hls)"
	switch {
	case errors.Is(err, cdn.ErrMissingSignature):
		code, msg = cdn.CodeSignatureMissing, "this link is not signed; playlist URLs come from GET /api/items/{id}/hls"
	case errors.Is(err, cdn.ErrExpired):
		code, msg = cdn.CodeSignatureExpired, "this link has expired ("+err.Error()+"); ask the API for a new playlist URL (GET /api/items/{id}/hls)"
	}
	writeErr(w, http.StatusForbidden, code, msg)
}

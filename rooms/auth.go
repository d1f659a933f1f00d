package rooms

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
)

// tokenLeeway is the clock skew allowed on a token's exp and nbf (RFC 7519
// §4.1.4 leaves it to the implementation). go-jose's default is a minute;
// the SFU, API and ingest share NTP-synced clocks, so a few seconds do.
const tokenLeeway = 5 * time.Second

// authenticator checks LiveKit access tokens (JWT, HS256) against the
// configured API key/secret pairs.
type authenticator struct {
	keys map[string]string
	// now is the clock exp and nbf are checked against; nil is time.Now.
	now func() time.Time
}

// tokenFromRequest takes the token from "Authorization: Bearer" or, for
// browsers that cannot set headers on a WebSocket, the access_token query
// parameter, as LiveKit servers do.
func tokenFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	return r.URL.Query().Get("access_token")
}

// verify returns the token's grants, or ErrUnauthorized. A token must
// carry exp (RFC 7519 §4.1.4): one without is refused rather than valid
// forever. Reasons are kept vague on purpose: the token itself is never
// logged or echoed.
func (a authenticator) verify(token string) (*auth.ClaimGrants, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: no access token", ErrUnauthorized)
	}
	tok, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthorized)
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthorized)
	}
	secret, ok := a.keys[unverified.Issuer]
	if !ok {
		return nil, fmt.Errorf("%w: unknown API key", ErrUnauthorized)
	}
	var std jwt.Claims
	grants := &auth.ClaimGrants{}
	if err := tok.Claims([]byte(secret), &std, grants); err != nil {
		return nil, fmt.Errorf("%w: invalid token signature", ErrUnauthorized)
	}
	if std.Expiry == nil {
		return nil, fmt.Errorf("%w: token has no exp; mint it with an expiry", ErrUnauthorized)
	}
	now := time.Now
	if a.now != nil {
		now = a.now
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: unverified.Issuer, Time: now()}, tokenLeeway); err != nil {
		return nil, fmt.Errorf("%w: invalid or expired token", ErrUnauthorized)
	}
	grants.Identity = std.Subject
	if grants.Identity == "" {
		grants.Identity = std.ID
	}
	if grants.Video == nil {
		grants.Video = &auth.VideoGrant{}
	}
	return grants, nil
}

// joinGrants checks that grants allow joining the room they name.
func joinGrants(g *auth.ClaimGrants) error {
	if !g.Video.RoomJoin || g.Video.Room == "" {
		return fmt.Errorf("%w: token lacks roomJoin for a room", ErrPermissionDenied)
	}
	if g.Identity == "" {
		return fmt.Errorf("%w: token has no identity", ErrPermissionDenied)
	}
	return nil
}

// permissionFromGrants is the ParticipantPermission a client sees.
func permissionFromGrants(v *auth.VideoGrant) *livekit.ParticipantPermission {
	return &livekit.ParticipantPermission{
		CanSubscribe:        v.GetCanSubscribe(),
		CanPublish:          v.GetCanPublish(),
		CanPublishData:      v.GetCanPublishData(),
		CanPublishSources:   v.GetCanPublishSources(),
		Hidden:              v.Hidden,
		CanUpdateMetadata:   v.GetCanUpdateOwnMetadata(),
		CanSubscribeMetrics: v.GetCanSubscribeMetrics(),
	}
}

// canPublishSource applies canPublish and canPublishSources (which, when
// set, supersedes canPublish) from a participant's current permission.
func canPublishSource(p *livekit.ParticipantPermission, src livekit.TrackSource) bool {
	if !p.GetCanPublish() {
		return false
	}
	if len(p.CanPublishSources) == 0 {
		return true
	}
	for _, s := range p.CanPublishSources {
		if s == src {
			return true
		}
	}
	return false
}

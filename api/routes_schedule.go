package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

// scheduleIn is the optional startsAtMs (Unix ms) of a party's create or
// edit body: absent leaves the schedule alone, null clears it, a number
// sets it.
type scheduleIn struct {
	StartsAtMs json.RawMessage `json:"startsAtMs"`
}

// parse reports whether the body touches the schedule and the start it
// asks for (nil: clear). A start must be in the future and within
// party.MaxScheduleAhead.
func (in scheduleIn) parse(now time.Time) (set bool, start *time.Time, err error) {
	raw := bytes.TrimSpace(in.StartsAtMs)
	if len(raw) == 0 {
		return false, nil, nil
	}
	if bytes.Equal(raw, []byte("null")) {
		return true, nil, nil
	}
	var ms int64
	if err := json.Unmarshal(raw, &ms); err != nil || ms <= 0 {
		return false, nil, badRequest("startsAtMs must be a start time in Unix milliseconds, or null to clear it")
	}
	t := time.UnixMilli(ms)
	if err := party.CheckStart(now, t); err != nil {
		return false, nil, err
	}
	return true, &t, nil
}

// isHost reports whether the caller holds host rights over the party on
// the request: its host, its owner or an admin.
func isHost(c *caller) bool {
	if c.party.OwnerID == c.user.ID || c.user.Role == auth.RoleAdmin {
		return true
	}
	return c.member != nil && c.member.Role == party.RoleHost
}

// checkSchedule parses an edit's schedule change; only the party's host
// may make one (403 otherwise).
func (s *Server) checkSchedule(c *caller, in scheduleIn) (set bool, start *time.Time, err error) {
	set, start, err = in.parse(s.p.Now())
	if err == nil && set && !isHost(c) {
		err = apiErr(http.StatusForbidden, "forbidden", "only the party's host may schedule or unschedule it")
	}
	return set, start, err
}

// Prefetcher hears a viewer's progress in an item without blocking the
// request: positionMs of durationMs on a progress save, 0 of 0 when they
// ask for its playlist (cdnctl.Planner.Observe).
type Prefetcher interface {
	Observe(userID, itemID int64, positionMs, durationMs float64)
}

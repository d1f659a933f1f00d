package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
)

// addProgressRoutes registers the on-demand player's resume points and the
// "Continue watching" row.
func (s *Server) addProgressRoutes() {
	s.add("GET", "/api/items/{itemId}/progress", User, s.getProgress)
	s.add("PUT", "/api/items/{itemId}/progress", User, s.putProgress)
	s.add("GET", "/api/me/continue", User, s.continueWatching)
}

// progressIn is the body of PUT /api/items/{itemId}/progress. Pointers
// tell a missing field from a zero one.
type progressIn struct {
	PositionMs *float64 `json:"positionMs"`
	DurationMs *float64 `json:"durationMs"`
}

// getProgress answers the caller's resume point in an item; an item never
// played answers positionMs 0.
func (s *Server) getProgress(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	if err := s.checkItemAccess(r, c, id); err != nil {
		return err
	}
	p, err := s.p.Library.WatchProgress(r.Context(), c.user.ID, id)
	if err != nil && !errors.Is(err, library.ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// putProgress saves the caller's position in an item they may watch. The
// player calls it every ~10 s while playing, on pause, after a seek and
// as the page closes (fetch keepalive).
func (s *Server) putProgress(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	var in progressIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.PositionMs == nil || in.DurationMs == nil {
		return badRequest(`send {"positionMs": <ms played>, "durationMs": <item length in ms>}`)
	}
	pos, dur, err := library.ValidateProgress(*in.PositionMs, *in.DurationMs)
	if err != nil {
		return err
	}
	if err := s.checkItemAccess(r, c, id); err != nil {
		return err
	}
	p, err := s.p.Library.SaveProgress(r.Context(), c.user.ID, id, pos, dur)
	if err != nil {
		return err
	}
	if s.p.Prefetcher != nil {
		s.p.Prefetcher.Observe(c.user.ID, id, float64(pos), float64(dur))
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// continueWatching lists the caller's started, unfinished items in the
// libraries they may still see, most recent first.
func (s *Server) continueWatching(w http.ResponseWriter, r *http.Request, c *caller) error {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return badRequest("limit must be a whole number from 1 to 100")
		}
		limit = n
	}
	libs, err := s.visibleLibraries(r.Context(), c)
	if err != nil {
		return err
	}
	list, err := s.p.Library.ContinueWatching(r.Context(), c.user.ID, libs, limit)
	if err != nil {
		return err
	}
	if c.user.Role != auth.RoleAdmin {
		for i := range list {
			list[i].Item.Path = ""
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

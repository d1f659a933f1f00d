package api

import (
	"context"
	"net/http"
	"strconv"
)

// HLSSigner signs the master playlist URL of an item (vod.Handler).
type HLSSigner interface {
	MasterURL(itemID int64) string
}

// hlsURL answers {"url": signed master playlist} for an item the caller
// may watch: one in a library they can access, or, for a party guest, the
// item their party is playing now.
func (s *Server) hlsURL(w http.ResponseWriter, r *http.Request, c *caller) error {
	if s.p.HLS == nil {
		return apiErr(http.StatusNotFound, "not_found", "on-demand viewing is not enabled on this server")
	}
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	if err := s.checkItemAccess(r, c, id); err != nil {
		if !s.currentForMember(r.Context(), c.user.ID, id) {
			return err
		}
	}
	if s.p.Prefetcher != nil {
		s.p.Prefetcher.Observe(c.user.ID, id, 0, 0)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"url": s.hlsMasterURL(r.Context(), c, id)})
	return nil
}

// currentForMember reports whether itemID is what one of the user's
// parties plays now.
func (s *Server) currentForMember(ctx context.Context, userID, itemID int64) bool {
	if s.p.Parties == nil {
		return false
	}
	ps, err := s.p.Parties.List(ctx, userID, false)
	if err != nil {
		return false
	}
	src := strconv.FormatInt(itemID, 10)
	for _, p := range ps {
		if p.CurrentEntryID == nil {
			continue
		}
		q, err := s.p.Parties.Queue(ctx, p.ID)
		if err != nil {
			continue
		}
		for _, e := range q {
			if e.ID == *p.CurrentEntryID && e.SourceID == src {
				return true
			}
		}
	}
	return false
}

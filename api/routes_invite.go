package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/marquee-party/marquee/party"
)

// addInviteRoutes lets the join page check an invite before anyone types a
// name: the reason a link cannot be used (expired, revoked, forged) and,
// for a good one, which party it opens.
func (s *Server) addInviteRoutes() {
	s.add("GET", "/api/invites/{token}", Public, s.checkInvite)
	s.add("GET", "/api/invites/{token}/poster", Public, s.invitePoster)
}

// InviteInfo is what a valid invite opens, shown before joining.
type InviteInfo struct {
	PartyID     int64        `json:"partyId"`
	Title       string       `json:"title"`
	Status      party.Status `json:"status"`
	Role        party.Role   `json:"role"`
	ExpiresAtMs int64        `json:"expiresAtMs"`
	// StartsAtMs is the party's scheduled start (Unix ms), if any.
	StartsAtMs *int64 `json:"startsAtMs,omitempty"`
	// NowPlaying is the current (or next) queue entry's title.
	NowPlaying string `json:"nowPlaying,omitempty"`
	// PosterURL serves that entry's poster to the invite's holder; empty
	// when it has none.
	PosterURL string `json:"posterUrl,omitempty"`
}

// checkInvite verifies an invite without spending it. Errors carry the
// reason: 401 invite_invalid, invite_expired or invite_revoked; 410
// party_gone.
func (s *Server) checkInvite(w http.ResponseWriter, r *http.Request, _ *caller) error {
	tok := r.PathValue("token")
	inv, p, err := s.p.Parties.CheckInvite(r.Context(), s.p.InviteSecret, tok)
	if errors.Is(err, party.ErrNotFound) {
		return apiErr(http.StatusGone, "party_gone", "this party has ended")
	}
	if err != nil {
		return err
	}
	info := InviteInfo{PartyID: p.ID, Title: p.Title, Status: p.Status, Role: inv.Role, ExpiresAtMs: inv.ExpiresAt.UnixMilli(),
		StartsAtMs: p.StartsAtMs}
	if e, ok := s.featuredEntry(r.Context(), p); ok {
		info.NowPlaying = e.Title
		if e.PosterURL != "" {
			info.PosterURL = "/api/invites/" + tok + "/poster"
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, info)
	return nil
}

// invitePoster serves the poster of the party's current entry to anyone
// holding a valid invite, who may not browse the library.
func (s *Server) invitePoster(w http.ResponseWriter, r *http.Request, _ *caller) error {
	_, p, err := s.p.Parties.CheckInvite(r.Context(), s.p.InviteSecret, r.PathValue("token"))
	if err != nil {
		return err
	}
	e, ok := s.featuredEntry(r.Context(), p)
	id, perr := strconv.ParseInt(e.SourceID, 10, 64)
	if !ok || e.PosterURL == "" || perr != nil || s.p.Library == nil {
		return apiErr(http.StatusNotFound, "no_poster", "this party shows no poster yet")
	}
	f, err := s.p.Library.PosterFile(r.Context(), id)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

// featuredEntry is the entry a party shows: the current one, else the
// first still waiting, else the first.
func (s *Server) featuredEntry(ctx context.Context, p party.Party) (party.Entry, bool) {
	q, err := s.p.Parties.Queue(ctx, p.ID)
	if err != nil || len(q) == 0 {
		return party.Entry{}, false
	}
	for _, e := range q {
		if p.CurrentEntryID != nil && e.ID == *p.CurrentEntryID {
			return e, true
		}
	}
	for _, e := range q {
		if e.Status == party.EntryQueued {
			return e, true
		}
	}
	return q[0], true
}

package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

func (s *Server) addPartyRoutes() {
	s.add("GET", "/api/parties", User, s.listParties)
	s.add("POST", "/api/parties", Member, s.createParty)
	s.add("GET", "/api/parties/{id}", PartyView, s.getParty)
	s.add("PATCH", "/api/parties/{id}", PartyControl, s.updateParty)
	s.add("DELETE", "/api/parties/{id}", PartyHost, s.deleteParty)
	s.add("GET", "/api/parties/{id}/queue", PartyView, s.getQueue)
	s.add("POST", "/api/parties/{id}/queue", PartyControl, s.enqueue)
	s.add("GET", "/api/parties/{id}/items", PartyControl, s.partyItems)
	s.add("PUT", "/api/parties/{id}/queue", PartyControl, s.reorder)
	s.add("PATCH", "/api/parties/{id}/queue/{entryId}", PartyControl, s.updateEntry)
	s.add("DELETE", "/api/parties/{id}/queue/{entryId}", PartyControl, s.removeEntry)
	s.add("POST", "/api/parties/{id}/control", PartyControl, s.control)
	s.add("GET", "/api/parties/{id}/worker", PartyView, s.workerState)
	s.add("GET", "/api/parties/{id}/members", PartyView, s.members)
	s.add("POST", "/api/parties/{id}/host", PartyHost, s.handOff)
	s.add("POST", "/api/parties/{id}/leave", PartyView, s.leave)
	s.add("POST", "/api/parties/{id}/invites", PartyControl, s.createInvite)
	s.add("DELETE", "/api/parties/{id}/invites", PartyHost, s.revokeInvites)
	s.add("POST", "/api/parties/{id}/token", PartyView, s.roomToken)
	s.add("GET", "/api/parties/{id}/events", PartyView, s.partyEvents)
	s.add("GET", "/api/parties/{id}/log", PartyView, s.partyLog)
	s.add("POST", "/api/join", Public, s.join)
	s.add("POST", "/internal/worker/events", Worker, s.workerEvent)
}

func (s *Server) listParties(w http.ResponseWriter, r *http.Request, c *caller) error {
	ps, err := s.p.Parties.List(r.Context(), c.user.ID, c.user.Role == auth.RoleAdmin)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"parties": ps})
	return nil
}

// partyView is a party with what a client shows beside it.
type partyView struct {
	party.Party
	// Role is the caller's role in the party; empty for a non-member admin.
	Role    party.Role        `json:"role,omitempty"`
	HostID  *int64            `json:"hostId"`
	Queue   []party.Entry     `json:"queue"`
	Current *party.Entry      `json:"current"`
	Worker  party.WorkerState `json:"worker"`
}

func (s *Server) view(r *http.Request, c *caller, id int64) (partyView, error) {
	ctx := r.Context()
	p, err := s.p.Parties.Get(ctx, id)
	if err != nil {
		return partyView{}, err
	}
	v := partyView{Party: p}
	if v.Queue, err = s.p.Parties.Queue(ctx, id); err != nil {
		return v, err
	}
	for i := range v.Queue {
		if p.CurrentEntryID != nil && v.Queue[i].ID == *p.CurrentEntryID {
			v.Current = &v.Queue[i]
		}
	}
	if v.Worker, err = s.p.Parties.WorkerState(ctx, id); err != nil {
		return v, err
	}
	ms, err := s.p.Parties.Members(ctx, id)
	if err != nil {
		return v, err
	}
	for _, m := range ms {
		if m.Role == party.RoleHost {
			uid := m.UserID
			v.HostID = &uid
		}
		if m.UserID == c.user.ID {
			v.Role = m.Role
		}
	}
	return v, nil
}

func (s *Server) writeView(w http.ResponseWriter, r *http.Request, c *caller, id int64, status int) error {
	v, err := s.view(r, c, id)
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}

// newEntryBody is a queue addition: a library item by id, or (without a
// library, e.g. for bots) a source id with its description.
type newEntryBody struct {
	ItemID int64 `json:"itemId"`
	party.NewEntry
}

func (b newEntryBody) entry() party.NewEntry {
	e := b.NewEntry
	if b.ItemID > 0 {
		e.SourceID = strconv.FormatInt(b.ItemID, 10)
	}
	return e
}

func (s *Server) createParty(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		party.NewParty
		ItemID int64 `json:"itemId"`
		scheduleIn
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	scheduled, start, err := in.parse(s.p.Now())
	if err != nil {
		return err
	}
	if in.ItemID > 0 {
		if err := s.checkItemAccess(r, c, in.ItemID); err != nil {
			return err
		}
		if strings.TrimSpace(in.Title) == "" && s.p.Library != nil {
			if it, err := s.p.Library.Item(r.Context(), in.ItemID); err == nil {
				in.Title = it.Title
			}
		}
	}
	p, err := s.p.Parties.Create(r.Context(), c.user.ID, in.NewParty)
	if err != nil {
		return err
	}
	if scheduled && start != nil {
		if _, err := s.p.Parties.SetSchedule(r.Context(), p.ID, start); err != nil {
			return err
		}
	}
	if in.ItemID > 0 {
		if err := s.enqueueItem(r.Context(), p.ID, in.ItemID); err != nil {
			return err
		}
	}
	return s.writeView(w, r, c, p.ID, http.StatusCreated)
}

func (s *Server) getParty(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.writeView(w, r, c, c.party.ID, http.StatusOK)
}

func (s *Server) updateParty(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		party.PartyUpdate
		scheduleIn
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	scheduled, start, err := s.checkSchedule(c, in.scheduleIn)
	if err != nil {
		return err
	}
	if _, err := s.p.Parties.Update(r.Context(), c.party.ID, in.PartyUpdate); err != nil {
		return err
	}
	if scheduled {
		if _, err := s.p.Parties.SetSchedule(r.Context(), c.party.ID, start); err != nil {
			return err
		}
	}
	return s.writeView(w, r, c, c.party.ID, http.StatusOK)
}

func (s *Server) deleteParty(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.p.Parties.Delete(background(r), c.party.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := s.p.Parties.Queue(r.Context(), c.party.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": q})
	return nil
}

func (s *Server) enqueue(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in newEntryBody
	if err := decode(r, &in); err != nil {
		return err
	}
	e := in.entry()
	if s.p.Library != nil {
		id, err := strconv.ParseInt(e.SourceID, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("itemId must be a library item id")
		}
		if err := s.checkPartyItem(r, c, id); err != nil {
			return err
		}
	}
	entry, err := s.p.Parties.Enqueue(r.Context(), c.party.ID, e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, entry)
	return nil
}

func (s *Server) reorder(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		EntryIDs []int64 `json:"entryIds"`
		Order    []int64 `json:"order"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.EntryIDs == nil {
		in.EntryIDs = in.Order
	}
	q, err := s.p.Parties.Reorder(r.Context(), c.party.ID, in.EntryIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": q})
	return nil
}

func (s *Server) updateEntry(w http.ResponseWriter, r *http.Request, c *caller) error {
	eid, err := pathID(r, "entryId")
	if err != nil {
		return err
	}
	var in party.EntryUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := s.p.Parties.UpdateEntry(r.Context(), c.party.ID, eid, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) removeEntry(w http.ResponseWriter, r *http.Request, c *caller) error {
	eid, err := pathID(r, "entryId")
	if err != nil {
		return err
	}
	if err := s.p.Parties.RemoveEntry(r.Context(), c.party.ID, eid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) control(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		Action          string   `json:"action"`
		PositionSeconds *float64 `json:"positionSeconds"`
		EntryID         int64    `json:"entryId"`
		// Resume starts from the caller's own resume point (history).
		Resume bool `json:"resume"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkPosition("positionSeconds", in.PositionSeconds); err != nil {
		return err
	}
	ctx, id := background(r), c.party.ID
	var err error
	switch in.Action {
	case "play":
		o := party.PlayOptions{EntryID: in.EntryID, StartSeconds: in.PositionSeconds}
		if in.Resume {
			o.ResumeUserID = c.user.ID
		}
		_, err = s.p.Parties.Play(ctx, id, o)
	case "pause":
		_, err = s.p.Parties.Pause(ctx, id)
	case "resume":
		_, err = s.p.Parties.Resume(ctx, id)
	case "seek":
		if in.PositionSeconds == nil {
			return badRequest("seek needs positionSeconds")
		}
		_, err = s.p.Parties.Seek(ctx, id, *in.PositionSeconds)
	case "skip":
		_, err = s.p.Parties.Skip(ctx, id)
	case "stop":
		_, err = s.p.Parties.Stop(ctx, id)
	default:
		return badRequest("action must be play, pause, resume, seek, skip or stop")
	}
	if err != nil {
		return err
	}
	return s.writeView(w, r, c, id, http.StatusOK)
}

func (s *Server) workerState(w http.ResponseWriter, r *http.Request, c *caller) error {
	ws, err := s.p.Parties.WorkerState(r.Context(), c.party.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

func (s *Server) members(w http.ResponseWriter, r *http.Request, c *caller) error {
	ms, err := s.p.Parties.Members(r.Context(), c.party.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": ms})
	return nil
}

func (s *Server) handOff(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		UserID   int64  `json:"userId"`
		Identity string `json:"identity"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.UserID == 0 && in.Identity != "" {
		id, ok := party.UserOfIdentity(in.Identity)
		if !ok {
			return badRequest("identity %q is not a Marquee participant", in.Identity)
		}
		in.UserID = id
	}
	if in.UserID <= 0 {
		return badRequest("userId (or identity) is required")
	}
	// The owner or an admin may take the role back even after leaving.
	if in.UserID == c.user.ID && c.member == nil {
		if _, err := s.p.Parties.Join(r.Context(), c.party.ID, c.user.ID, party.RoleCohost); err != nil {
			return err
		}
	}
	m, err := s.p.Parties.HandOff(background(r), c.party.ID, in.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request, c *caller) error {
	if c.member == nil {
		return apiErr(http.StatusConflict, "not_member", "you are not in this party")
	}
	nh, err := s.p.Parties.Leave(background(r), c.party.ID, c.user.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"newHost": nh})
	return nil
}

// inviteTTL reads expiresIn (seconds, or a Go duration such as "2h") or
// expiresInSeconds, between 1m and maxTTL; the default is one day.
func inviteTTL(raw json.RawMessage, seconds int64, maxTTL time.Duration) (time.Duration, error) {
	if seconds != 0 {
		return secondsIn("expiresInSeconds", seconds, time.Minute, maxTTL)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return 24 * time.Hour, nil
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		return floatSecondsIn("expiresIn", n, time.Minute, maxTTL)
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		if d, err := time.ParseDuration(str); err == nil {
			return d, nil
		}
	}
	return 0, badRequest("expiresIn must be seconds or a duration such as \"2h\"")
}

// Invite is a minted invite link.
type Invite struct {
	URL         string     `json:"url"`
	Token       string     `json:"token"`
	Role        party.Role `json:"role"`
	ExpiresAtMs int64      `json:"expiresAtMs"`
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		Role             party.Role      `json:"role"`
		ExpiresIn        json.RawMessage `json:"expiresIn"`
		ExpiresInSeconds int64           `json:"expiresInSeconds"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = party.RoleListener
	}
	if in.Role != party.RoleListener && in.Role != party.RoleCohost {
		return badRequest("role must be listener or cohost")
	}
	isHost := c.user.Role == auth.RoleAdmin || (c.member != nil && c.member.Role == party.RoleHost)
	if in.Role == party.RoleCohost && !isHost {
		return apiErr(http.StatusForbidden, "forbidden", "only the host can invite co-hosts")
	}
	ttl, err := inviteTTL(in.ExpiresIn, in.ExpiresInSeconds, s.p.MaxInviteTTL)
	if err != nil {
		return err
	}
	if ttl < time.Minute || ttl > s.p.MaxInviteTTL {
		return badRequest("expiresIn must be between 1m and %s", s.p.MaxInviteTTL)
	}
	exp := s.p.Now().Add(ttl)
	tok, err := party.SignInvite(s.p.InviteSecret, party.Invite{PartyID: c.party.ID, Role: in.Role, ExpiresAt: exp,
		Epoch: c.party.InviteEpoch})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, Invite{URL: trimSlash(s.p.PublicURL) + "/join/" + tok, Token: tok, Role: in.Role,
		ExpiresAtMs: exp.Truncate(time.Second).UnixMilli()})
	return nil
}

// revokeInvites voids every invite link of the party minted so far.
func (s *Server) revokeInvites(w http.ResponseWriter, r *http.Request, c *caller) error {
	if _, err := s.p.Parties.RevokeInvites(r.Context(), c.party.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RoomAccess is what a browser needs to join a party's SFU room.
type RoomAccess struct {
	party.AccessToken
	PartyID int64      `json:"partyId"`
	User    *auth.User `json:"user,omitempty"`
}

func (s *Server) roomToken(w http.ResponseWriter, r *http.Request, c *caller) error {
	// Tab names this connection (a browser tab): each is its own participant.
	var in struct {
		Tab string `json:"tab"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Tab != "" && !party.ValidTab(in.Tab) {
		return badRequest("tab must be 1-32 letters, digits, '-' or '_'")
	}
	if c.member == nil { // an admin looking in joins as a co-host
		if _, err := s.p.Parties.Join(r.Context(), c.party.ID, c.user.ID, party.RoleCohost); err != nil {
			return err
		}
	}
	t, err := s.p.Parties.AccessToken(r.Context(), c.party.ID, c.user.ID, in.Tab)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RoomAccess{AccessToken: t, PartyID: c.party.ID})
	return nil
}

// join spends an invite: a signed-in caller joins as themself, anyone else
// becomes a new guest account with a session cookie.
func (s *Server) join(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		Token       string `json:"token"`
		DisplayName string `json:"displayName"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	inv, _, err := s.p.Parties.CheckInvite(r.Context(), s.p.InviteSecret, in.Token)
	if errors.Is(err, party.ErrNotFound) {
		return apiErr(http.StatusGone, "party_gone", "this party has ended")
	}
	if err != nil {
		return err
	}
	var u auth.User
	if c != nil {
		u = c.user
	} else {
		key := limiterKey(r, "\x00join")
		if !s.joins.allow(key) {
			return errTooManyJoins
		}
		s.joins.fail(key) // counts guest accounts made, not failures
		name := strings.TrimSpace(in.DisplayName)
		if name == "" {
			name = "Guest"
		}
		if len(name) > 80 {
			return badRequest("displayName must be at most 80 bytes")
		}
		u, err = s.p.Auth.CreateUser(r.Context(), auth.NewUser{Username: "guest-" + randomSuffix(), DisplayName: name,
			Role: auth.RoleGuest})
		if err != nil {
			return err
		}
		if err := s.signIn(w, r, u); err != nil {
			return err
		}
	}
	if _, err := s.p.Parties.Join(r.Context(), inv.PartyID, u.ID, inv.Role); err != nil {
		return err
	}
	t, err := s.p.Parties.AccessToken(r.Context(), inv.PartyID, u.ID, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RoomAccess{AccessToken: t, PartyID: inv.PartyID, User: &u})
	return nil
}

func randomSuffix() string {
	s, _ := auth.NewSecret("")
	return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))[:10]
}

func (s *Server) workerEvent(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var ev party.WorkerEvent
	if err := decode(r, &ev); err != nil {
		return err
	}
	if err := s.p.Parties.HandleWorkerEvent(background(r), ev); err != nil {
		if errors.Is(err, party.ErrNotFound) {
			return apiErr(http.StatusNotFound, "unknown_session", fmt.Sprintf("no party uses worker session %q", ev.SessionID))
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

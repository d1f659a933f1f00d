package api

import (
	"encoding/json"
	"fmt"
	"github.com/marquee-party/marquee/party"
	"net/http"
	"strconv"
	"time"
)

// SSEKeepAlive is how often an idle event stream gets a comment line, so
// proxies do not close it.
const SSEKeepAlive = 15 * time.Second

// partyEvents streams a party's events as server-sent events
// (https://html.spec.whatwg.org/multipage/server-sent-events.html). Each
// event is a default "message" whose data is the PartyEvent JSON and whose
// id is the event's log id, so EventSource's automatic reconnect (which
// sends Last-Event-ID) resumes without loss. ?after=N replays from id N.
// Heartbeat position updates are live-only and carry no id.
func (s *Server) partyEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	after := int64(-1)
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return badRequest("after / Last-Event-ID must be a non-negative integer")
		}
		after = n
	}
	sub := s.p.Parties.Subscribe(c.party.ID)
	defer sub.Close()
	rc, done := s.openSSE(w)
	defer done()
	last := int64(0)
	if after >= 0 {
		backlog, err := s.p.Parties.Events(r.Context(), c.party.ID, after, 1000)
		if err != nil {
			return err
		}
		for _, ev := range backlog {
			if err := writeSSE(w, ev.ID, c.seeEvent(ev)); err != nil {
				return nil
			}
			last = ev.ID
		}
	}
	_, _ = fmt.Fprint(w, ": connected\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	keep := time.NewTicker(SSEKeepAlive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
		case ev, ok := <-sub.C:
			if !ok {
				return nil // party deleted, server stopping, or we fell behind: the client reconnects
			}
			if ev.ID != 0 && ev.ID <= last {
				continue // already sent from the backlog
			}
			if err := writeSSE(w, ev.ID, c.seeEvent(ev)); err != nil {
				return nil
			}
			if ev.ID != 0 {
				last = ev.ID
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

func writeSSE(w http.ResponseWriter, id int64, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id != 0 {
		if _, err := fmt.Fprintf(w, "id: %d\n", id); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(w, "data: %s\n\n", b)
	return err
}

// partyLog returns the recorded event log as JSON, for bots and tests.
func (s *Server) partyLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	evs, err := s.p.Parties.Events(r.Context(), c.party.ID, max(after, 0), limit)
	if err != nil {
		return err
	}
	for i := range evs {
		evs[i] = c.seeEvent(evs[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
	return nil
}

// seeEvent is ev as the caller may see it: listeners get no internal
// details (party.PartyEvent.ForViewer); hosts, co-hosts and admins get all.
func (c *caller) seeEvent(ev party.PartyEvent) party.PartyEvent {
	if c.member != nil && !c.member.Role.CanControl() {
		return ev.ForViewer()
	}
	return ev
}

// openSSE starts a server-sent event stream
// (https://html.spec.whatwg.org/multipage/server-sent-events.html): the
// content type, no proxy buffering, the 200 status and the open-streams
// gauge, which done takes back.
func (s *Server) openSSE(w http.ResponseWriter) (rc *http.ResponseController, done func()) {
	s.metrics.sse.Inc()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return http.NewResponseController(w), s.metrics.sse.Dec
}

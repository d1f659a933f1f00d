package party

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// event appends to a party's log and fans the event out to live
// subscribers. A failure to log is logged, never returned: the change it
// describes has already been committed.
func (s *Service) event(ctx context.Context, partyID int64, typ string, payload any) {
	b, err := json.Marshal(payload)
	if err != nil {
		b = []byte("{}")
	}
	ev := PartyEvent{PartyID: partyID, Type: typ, Payload: json.RawMessage(b), CreatedAtMs: s.nowMs()}
	err = s.db.QueryRowContext(context.WithoutCancel(ctx), `INSERT INTO party_events(party_id, type, payload, created_at)
		VALUES(?, ?, ?, ?) RETURNING id`, partyID, typ, string(b), ev.CreatedAtMs).Scan(&ev.ID)
	if err != nil {
		s.log.Warn("party event not recorded", "party", partyID, "type", typ, "err", err)
		return
	}
	s.metrics.events.WithLabelValues(typ).Inc()
	s.broker.publish(ev)
}

// Events returns up to limit events of a party with id > afterID, oldest first.
func (s *Service) Events(ctx context.Context, partyID, afterID int64, limit int) ([]PartyEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, party_id, type, payload, created_at FROM party_events
		WHERE party_id = ? AND id > ? ORDER BY id LIMIT ?`, partyID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("party: events: %w", err)
	}
	defer rows.Close()
	out := []PartyEvent{}
	for rows.Next() {
		var ev PartyEvent
		var payload string
		if err := rows.Scan(&ev.ID, &ev.PartyID, &ev.Type, &payload, &ev.CreatedAtMs); err != nil {
			return nil, err
		}
		ev.Payload = json.RawMessage(payload)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Subscription delivers a party's live events. C is closed when the party
// is deleted, when the subscriber falls SubscriberBuffer events behind (it
// should reconnect and replay from its last id), or on Close.
type Subscription struct {
	C      <-chan PartyEvent
	c      chan PartyEvent
	party  int64
	broker *broker
}

// Close stops delivery; it is safe to call more than once.
func (sub *Subscription) Close() { sub.broker.remove(sub) }

// SubscriberBuffer is how many events a slow subscriber may lag before it
// is cut off; publishing never blocks on a subscriber.
const SubscriberBuffer = 64

// Subscribe starts delivery of a party's events published from now on.
// Callers replay older ones with Events.
func (s *Service) Subscribe(partyID int64) *Subscription {
	return s.broker.add(partyID)
}

// SubscribeAll is Subscribe for the events of every party, for followers
// such as the Discord bridge that must notice parties they did not start.
func (s *Service) SubscribeAll() *Subscription {
	return s.broker.add(allParties)
}

// allParties is the broker key of SubscribeAll; party ids start at 1.
const allParties = 0

type broker struct {
	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}
}

func newBroker() *broker { return &broker{subs: map[int64]map[*Subscription]struct{}{}} }

func (b *broker) add(party int64) *Subscription {
	c := make(chan PartyEvent, SubscriberBuffer)
	sub := &Subscription{C: c, c: c, party: party, broker: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[party] == nil {
		b.subs[party] = map[*Subscription]struct{}{}
	}
	b.subs[party][sub] = struct{}{}
	return sub
}

func (b *broker) remove(sub *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[sub.party][sub]; ok {
		delete(b.subs[sub.party], sub)
		close(sub.c)
		if len(b.subs[sub.party]) == 0 {
			delete(b.subs, sub.party)
		}
	}
}

func (b *broker) publish(ev PartyEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, key := range []int64{ev.PartyID, allParties} {
		for sub := range b.subs[key] {
			select {
			case sub.c <- ev:
			default: // too slow: cut it off rather than block the publisher
				delete(b.subs[key], sub)
				close(sub.c)
			}
		}
	}
}

func (b *broker) closeParty(party int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sub := range b.subs[party] {
		close(sub.c)
	}
	delete(b.subs, party)
}

func (b *broker) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for party, subs := range b.subs {
		for sub := range subs {
			close(sub.c)
		}
		delete(b.subs, party)
	}
}

// ReportProblem records trouble an integration hit while serving a party,
// such as the Discord bot lacking a permission, as a "problem" event: it
// shows in the party's event log and live stream, so the web app and API
// clients can tell the host what to fix. source names the integration.
func (s *Service) ReportProblem(ctx context.Context, partyID int64, source, message string) error {
	if _, err := s.Get(ctx, partyID); err != nil {
		return err
	}
	s.event(ctx, partyID, "problem", map[string]string{"source": source, "message": message})
	return nil
}

// internalDetail is the payload key of an event's technical details (a
// worker's URL and dial error): for the people who run the party only.
const internalDetail = "detail"

// ForViewer returns ev as a person who cannot control the party may see
// it: without internal details such as the media worker's address, which
// the party log keeps for hosts and co-hosts (and the server log for the
// operator). Other events are returned unchanged.
func (ev PartyEvent) ForViewer() PartyEvent {
	var m map[string]any
	switch p := ev.Payload.(type) {
	case map[string]any:
		m = p
	case json.RawMessage:
		if !bytes.Contains(p, []byte(`"`+internalDetail+`"`)) || json.Unmarshal(p, &m) != nil {
			return ev
		}
	default:
		return ev
	}
	if _, ok := m[internalDetail]; !ok {
		return ev
	}
	clean := make(map[string]any, len(m))
	for k, v := range m {
		if k != internalDetail {
			clean[k] = v
		}
	}
	ev.Payload = clean
	return ev
}

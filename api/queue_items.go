package api

import "context"

// maxStartEntries bounds how many entries starting one container queues.
const maxStartEntries = 500

// enqueueItem queues what starting library item itemID plays: the item
// itself, or a container's tracks or episodes in order (library.PlayOrder).
// Without a library, or for a container it cannot expand, it queues the
// item and lets the resolver pick at play time.
func (s *Server) enqueueItem(ctx context.Context, partyID, itemID int64) error {
	ids := []int64{itemID}
	if s.p.Library != nil {
		if items, err := s.p.Library.PlayOrder(ctx, itemID); err == nil && len(items) > 0 {
			ids = ids[:0]
			for _, it := range items[:min(len(items), maxStartEntries)] {
				if it.ProbeError == "" {
					ids = append(ids, it.ID)
				}
			}
		}
	}
	if len(ids) == 0 {
		ids = []int64{itemID}
	}
	for _, id := range ids {
		if _, err := s.p.Parties.Enqueue(ctx, partyID, newEntryBody{ItemID: id}.entry()); err != nil {
			return err
		}
	}
	return nil
}

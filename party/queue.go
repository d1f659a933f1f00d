package party

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

const entryCols = `id, party_id, position, media_type, source_id, title, year, runtime_seconds, summary, poster_url,
	artist, album, status, created_at, updated_at`

func scanEntry(r scanner) (Entry, error) {
	var e Entry
	err := r.Scan(&e.ID, &e.PartyID, &e.Position, &e.MediaType, &e.SourceID, &e.Title, &e.Year, &e.RuntimeSeconds,
		&e.Summary, &e.PosterURL, &e.Artist, &e.Album, &e.Status, &e.CreatedAtMs, &e.UpdatedAtMs)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("queue entry: %w", ErrNotFound)
	}
	return e, err
}

// NewEntry describes an item to queue. With a Catalog configured, the
// descriptive fields come from the library and the client's are ignored.
type NewEntry struct {
	MediaType      MediaType `json:"mediaType"`
	SourceID       string    `json:"sourceId"`
	Title          string    `json:"title"`
	Year           int       `json:"year"`
	RuntimeSeconds float64   `json:"runtimeSeconds"`
	Summary        string    `json:"summary"`
	PosterURL      string    `json:"posterUrl"`
	Artist         string    `json:"artist"`
	Album          string    `json:"album"`
}

// MaxTitleBytes bounds party and queue entry titles (and artist and
// album credits). It must be at least library.MaxTitleBytes, so that any
// item the library holds can be queued and named a party after; package
// api checks that at compile time.
const MaxTitleBytes = 300

func (n *NewEntry) validate() error {
	n.SourceID = strings.TrimSpace(n.SourceID)
	n.Title = strings.TrimSpace(n.Title)
	n.Artist, n.Album = strings.TrimSpace(n.Artist), strings.TrimSpace(n.Album)
	switch {
	case !n.MediaType.Valid():
		return fmt.Errorf("%w: mediaType must be movie, episode, track, show, season, artist or album", ErrInvalid)
	case n.SourceID == "" || len(n.SourceID) > 256:
		return fmt.Errorf("%w: sourceId must be 1-256 bytes", ErrInvalid)
	case n.Title == "" || len(n.Title) > MaxTitleBytes:
		return fmt.Errorf("%w: title must be 1-%d bytes", ErrInvalid, MaxTitleBytes)
	case n.RuntimeSeconds < 0 || n.Year < 0 || len(n.Summary) > 10000 || len(n.PosterURL) > 2048:
		return fmt.Errorf("%w: runtime, year, summary or poster out of range", ErrInvalid)
	case len(n.Artist) > MaxTitleBytes || len(n.Album) > MaxTitleBytes:
		return fmt.Errorf("%w: artist and album must be at most %d bytes", ErrInvalid, MaxTitleBytes)
	}
	return nil
}

// Enqueue appends an entry to a party's queue.
func (s *Service) Enqueue(ctx context.Context, partyID int64, n NewEntry) (Entry, error) {
	if s.catalog != nil {
		d, err := s.catalog.Describe(ctx, n.SourceID)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: %w", ErrResolve, err)
		}
		n.MediaType, n.Title, n.Year, n.RuntimeSeconds, n.Summary, n.PosterURL, n.Artist, n.Album =
			d.MediaType, d.Title, d.Year, d.RuntimeSeconds, d.Summary, d.PosterURL, d.Artist, d.Album
	}
	if err := n.validate(); err != nil {
		return Entry{}, err
	}
	unlock := s.lock(partyID)
	defer unlock()
	var e Entry
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		p, err := s.getParty(ctx, tx, partyID)
		if err != nil {
			return err
		}
		now := s.nowMs()
		e, err = scanEntry(tx.QueryRowContext(ctx, `INSERT INTO queue_entries(party_id, position, media_type, source_id,
			title, year, runtime_seconds, summary, poster_url, artist, album, created_at, updated_at)
			VALUES(?, (SELECT COALESCE(MAX(position), 0) + 1 FROM queue_entries WHERE party_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING `+entryCols, partyID, partyID, n.MediaType, n.SourceID, n.Title, n.Year, n.RuntimeSeconds,
			n.Summary, n.PosterURL, n.Artist, n.Album, now, now))
		if err != nil {
			return fmt.Errorf("party: enqueue: %w", err)
		}
		return s.setStatus(ctx, tx, &p, EvEnqueue)
	})
	if err != nil {
		return Entry{}, err
	}
	s.event(ctx, partyID, "queue.added", e)
	return e, nil
}

// Queue lists a party's entries by position.
func (s *Service) Queue(ctx context.Context, partyID int64) ([]Entry, error) {
	return s.queue(ctx, s.db, partyID)
}

func (s *Service) queue(ctx context.Context, q execer, partyID int64) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+entryCols+` FROM queue_entries WHERE party_id = ? ORDER BY position, id`, partyID)
	if err != nil {
		return nil, fmt.Errorf("party: queue: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Entry returns one queue entry of a party.
func (s *Service) Entry(ctx context.Context, partyID, entryID int64) (Entry, error) {
	return s.entry(ctx, s.db, partyID, entryID)
}

func (s *Service) entry(ctx context.Context, q execer, partyID, entryID int64) (Entry, error) {
	return scanEntry(q.QueryRowContext(ctx, `SELECT `+entryCols+` FROM queue_entries WHERE id = ? AND party_id = ?`,
		entryID, partyID))
}

// EntryUpdate edits an entry; nil leaves a field alone. Position moves the
// entry to that 1-based place and renumbers the others.
type EntryUpdate struct {
	Title     *string `json:"title"`
	Summary   *string `json:"summary"`
	PosterURL *string `json:"posterUrl"`
	Position  *int    `json:"position"`
}

// UpdateEntry edits an entry's text or moves it.
func (s *Service) UpdateEntry(ctx context.Context, partyID, entryID int64, u EntryUpdate) (Entry, error) {
	if u.Title != nil && (strings.TrimSpace(*u.Title) == "" || len(*u.Title) > MaxTitleBytes) {
		return Entry{}, fmt.Errorf("%w: title must be 1-%d bytes", ErrInvalid, MaxTitleBytes)
	}
	unlock := s.lock(partyID)
	defer unlock()
	var e Entry
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.entry(ctx, tx, partyID, entryID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queue_entries SET title = COALESCE(?, title), summary = COALESCE(?, summary),
			poster_url = COALESCE(?, poster_url), updated_at = ? WHERE id = ?`, u.Title, u.Summary, u.PosterURL, s.nowMs(), entryID); err != nil {
			return fmt.Errorf("party: update entry: %w", err)
		}
		if u.Position != nil {
			q, err := s.queue(ctx, tx, partyID)
			if err != nil {
				return err
			}
			if *u.Position < 1 || *u.Position > len(q) {
				return fmt.Errorf("%w: position must be 1-%d", ErrInvalid, len(q))
			}
			ids := make([]int64, 0, len(q))
			for _, x := range q {
				if x.ID != entryID {
					ids = append(ids, x.ID)
				}
			}
			ids = append(ids[:*u.Position-1], append([]int64{entryID}, ids[*u.Position-1:]...)...)
			if err := s.renumber(ctx, tx, ids); err != nil {
				return err
			}
		}
		var err error
		e, err = s.entry(ctx, tx, partyID, entryID)
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	s.event(ctx, partyID, "queue.updated", e)
	return e, nil
}

// Reorder sets the queue's order; ids must name every entry exactly once.
func (s *Service) Reorder(ctx context.Context, partyID int64, ids []int64) ([]Entry, error) {
	unlock := s.lock(partyID)
	defer unlock()
	var out []Entry
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		q, err := s.queue(ctx, tx, partyID)
		if err != nil {
			return err
		}
		have := map[int64]bool{}
		for _, e := range q {
			have[e.ID] = true
		}
		if len(ids) != len(q) {
			return fmt.Errorf("%w: entryIds must list all %d entries", ErrInvalid, len(q))
		}
		for _, id := range ids {
			if !have[id] {
				return fmt.Errorf("%w: entry %d is not in this queue or is listed twice", ErrInvalid, id)
			}
			delete(have, id)
		}
		if err := s.renumber(ctx, tx, ids); err != nil {
			return err
		}
		out, err = s.queue(ctx, tx, partyID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.event(ctx, partyID, "queue.reordered", map[string]any{"entryIds": ids})
	return out, nil
}

func (s *Service) renumber(ctx context.Context, tx *sql.Tx, ids []int64) error {
	for i, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE queue_entries SET position = ? WHERE id = ?`, i+1, id); err != nil {
			return fmt.Errorf("party: reorder: %w", err)
		}
	}
	return nil
}

// RemoveEntry deletes an entry. Removing the entry that is playing is
// refused: skip it first.
func (s *Service) RemoveEntry(ctx context.Context, partyID, entryID int64) error {
	unlock := s.lock(partyID)
	defer unlock()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		p, err := s.getParty(ctx, tx, partyID)
		if err != nil {
			return err
		}
		if _, err := s.entry(ctx, tx, partyID, entryID); err != nil {
			return err
		}
		if p.CurrentEntryID != nil && *p.CurrentEntryID == entryID && p.Status.Active() {
			return fmt.Errorf("%w: entry %d is playing; skip it first", ErrBadTransition, entryID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_entries WHERE id = ?`, entryID); err != nil {
			return fmt.Errorf("party: remove entry: %w", err)
		}
		q, err := s.queue(ctx, tx, partyID)
		if err != nil {
			return err
		}
		ids := make([]int64, len(q))
		waiting := false
		for i, e := range q {
			ids[i] = e.ID
			waiting = waiting || e.Status == EntryQueued
		}
		if err := s.renumber(ctx, tx, ids); err != nil {
			return err
		}
		if !waiting {
			return s.setStatus(ctx, tx, &p, EvQueueEmptied)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.event(ctx, partyID, "queue.removed", map[string]any{"entryId": entryID})
	return nil
}

// nextQueued returns the first waiting entry after position, or ErrNothingToPlay.
func (s *Service) nextQueued(ctx context.Context, q execer, partyID int64, after int) (Entry, error) {
	e, err := scanEntry(q.QueryRowContext(ctx, `SELECT `+entryCols+` FROM queue_entries
		WHERE party_id = ? AND status = 'queued' AND position > ? ORDER BY position LIMIT 1`, partyID, after))
	if errors.Is(err, ErrNotFound) {
		return e, ErrNothingToPlay
	}
	return e, err
}

func (s *Service) setEntryStatus(ctx context.Context, q execer, entryID int64, st EntryStatus) error {
	_, err := q.ExecContext(ctx, `UPDATE queue_entries SET status = ?, updated_at = ? WHERE id = ?`, st, s.nowMs(), entryID)
	if err != nil {
		return fmt.Errorf("party: entry status: %w", err)
	}
	return nil
}

package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/marquee-party/marquee/library"
)

// partyLibraries returns the ids of the party's libraries: those its owner
// may browse. A co-host (a guest, perhaps, with no library account) picks
// what the party plays from them.
func (s *Server) partyLibraries(ctx context.Context, c *caller) ([]int64, error) {
	owner, err := s.p.Auth.User(ctx, c.party.OwnerID)
	if err != nil {
		return nil, err
	}
	libs, err := s.p.Library.Libraries(ctx)
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	for _, l := range libs {
		ok, err := s.p.Auth.CanAccessLibrary(ctx, owner, strconv.FormatInt(l.ID, 10))
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, l.ID)
		}
	}
	return ids, nil
}

// partyItems searches the party's libraries for a controller (host or
// co-host) adding to the queue: GET /api/parties/{id}/items?q=&kind=&limit=.
func (s *Server) partyItems(w http.ResponseWriter, r *http.Request, c *caller) error {
	if s.p.Library == nil {
		return apiErr(http.StatusServiceUnavailable, "no_library", "this server has no library")
	}
	q := r.URL.Query()
	ids, err := s.partyLibraries(r.Context(), c)
	if err != nil {
		return err
	}
	items := []library.Item{}
	if len(ids) > 0 {
		query := library.Query{LibraryIDs: ids, Search: q.Get("q")}
		for _, k := range strings.Split(q.Get("kind"), ",") {
			if k != "" {
				query.Kinds = append(query.Kinds, library.ItemKind(k))
			}
		}
		query.Limit, _ = strconv.Atoi(q.Get("limit"))
		if query.Limit <= 0 || query.Limit > 50 {
			query.Limit = 50
		}
		if items, err = s.p.Library.Items(r.Context(), query); err != nil {
			return err
		}
	}
	for i := range items {
		items[i].Path = "" // server paths are for admins, on the library routes
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// checkPartyItem lets a controller queue item id: one the caller may see
// in the library, or one of the party's libraries.
func (s *Server) checkPartyItem(r *http.Request, c *caller, id int64) error {
	err := s.checkItemAccess(r, c, id)
	if err == nil || s.p.Library == nil {
		return err
	}
	it, ierr := s.p.Library.Item(r.Context(), id)
	if errors.Is(ierr, library.ErrNotFound) {
		return errNoItem
	}
	if ierr != nil {
		return ierr
	}
	ids, lerr := s.partyLibraries(r.Context(), c)
	if lerr != nil {
		return lerr
	}
	for _, l := range ids {
		if l == it.LibraryID {
			return nil
		}
	}
	return err
}

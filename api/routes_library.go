package api

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

func (s *Server) addLibraryRoutes() {
	s.add("GET", "/api/libraries", Member, s.listLibraries)
	s.add("POST", "/api/libraries", Admin, s.createLibrary)
	s.add("DELETE", "/api/libraries/{libraryId}", Admin, s.deleteLibrary)
	s.add("GET", "/api/libraries/{libraryId}/scan", Member, s.scanProgress)
	s.add("POST", "/api/libraries/{libraryId}/scan", Admin, s.startScan)
	s.add("GET", "/api/items", Member, s.listItems)
	s.add("GET", "/api/items/{itemId}", Member, s.getItem)
	s.add("PATCH", "/api/items/{itemId}", Admin, s.editItem)
	s.add("GET", "/api/items/{itemId}/poster", User, s.poster)
	s.add("GET", "/api/items/{itemId}/hls", User, s.hlsURL)
	s.add("GET", "/api/posters/{itemId}/{version}", Origin, s.posterOrigin)
	s.addProgressRoutes()
}

// visibleLibraries returns the ids of the libraries c may browse.
func (s *Server) visibleLibraries(ctx context.Context, c *caller) ([]int64, error) {
	libs, err := s.p.Library.Libraries(ctx)
	if err != nil {
		return nil, err
	}
	ids := []int64{}
	for _, l := range libs {
		ok, err := s.p.Auth.CanAccessLibrary(ctx, c.user, strconv.FormatInt(l.ID, 10))
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, l.ID)
		}
	}
	return ids, nil
}

// errNoItem hides whether an item exists from callers who may not see it.
var errNoItem = apiErr(http.StatusNotFound, "not_found", "no such item")

// checkItemAccess lets c see item id: through library access, or, for
// anyone, when the item is queued in a party c belongs to.
func (s *Server) checkItemAccess(r *http.Request, c *caller, id int64) error {
	if s.p.Library == nil {
		return nil
	}
	it, err := s.p.Library.Item(r.Context(), id)
	if errors.Is(err, library.ErrNotFound) {
		return errNoItem
	}
	if err != nil {
		return err
	}
	ok, err := s.p.Auth.CanAccessLibrary(r.Context(), c.user, strconv.FormatInt(it.LibraryID, 10))
	if err != nil {
		return err
	}
	if !ok {
		return errNoItem
	}
	return nil
}

func (s *Server) listLibraries(w http.ResponseWriter, r *http.Request, c *caller) error {
	libs, err := s.p.Library.Libraries(r.Context())
	if err != nil {
		return err
	}
	out := []library.Library{}
	for _, l := range libs {
		if ok, _ := s.p.Auth.CanAccessLibrary(r.Context(), c.user, strconv.FormatInt(l.ID, 10)); ok {
			if c.user.Role != auth.RoleAdmin {
				l.Location = "" // server paths are for admins
			}
			out = append(out, l)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"libraries": out})
	return nil
}

// underRoot reports whether path lies inside one of roots.
func underRoot(path string, roots []string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, root := range roots {
		r, err := filepath.Abs(root)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(r); err == nil {
			r = real
		}
		if rel, err := filepath.Rel(r, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

func (s *Server) createLibrary(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var in struct {
		Name string       `json:"name"`
		Path string       `json:"path"`
		Kind library.Kind `json:"kind"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if !underRoot(in.Path, s.p.LibraryRoots) {
		return apiErr(http.StatusBadRequest, "outside_roots", "path must be inside one of the configured library roots")
	}
	lib, err := s.p.Library.CreateLibrary(r.Context(), in.Name, in.Path, in.Kind)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, lib)
	return nil
}

func (s *Server) deleteLibrary(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "libraryId")
	if err != nil {
		return err
	}
	if err := s.p.Library.DeleteLibrary(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) libraryAccess(r *http.Request, c *caller) (int64, error) {
	id, err := pathID(r, "libraryId")
	if err != nil {
		return 0, err
	}
	ok, err := s.p.Auth.CanAccessLibrary(r.Context(), c.user, strconv.FormatInt(id, 10))
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, apiErr(http.StatusNotFound, "not_found", "no such library")
	}
	if _, err := s.p.Library.Library(r.Context(), id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) startScan(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.libraryAccess(r, c)
	if err != nil {
		return err
	}
	if s.p.Scanner == nil {
		return apiErr(http.StatusServiceUnavailable, "no_scanner", "scanning is not enabled")
	}
	if err := s.p.Scanner.Scan(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, s.p.Scanner.Progress(id))
	return nil
}

// scanProgress returns a scan's progress as JSON, or streams it as
// server-sent events when the client accepts text/event-stream.
func (s *Server) scanProgress(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.libraryAccess(r, c)
	if err != nil {
		return err
	}
	if s.p.Scanner == nil {
		return apiErr(http.StatusServiceUnavailable, "no_scanner", "scanning is not enabled")
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		writeJSON(w, http.StatusOK, s.progressFor(r.Context(), c, s.p.Scanner.Progress(id)))
		return nil
	}
	ch, stop := s.p.Scanner.Subscribe(id)
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	p := s.p.Scanner.Progress(id)
	for {
		if err := writeSSE(w, 0, s.progressFor(r.Context(), c, p)); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil || p.State.Final() || p.State == library.StateIdle {
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case p = <-ch:
		}
	}
}

func (s *Server) listItems(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	visible, err := s.visibleLibraries(r.Context(), c)
	if err != nil {
		return err
	}
	query := library.Query{LibraryIDs: visible, Search: q.Get("q")}
	if v := q.Get("library"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return badRequest("library must be an id")
		}
		query.LibraryIDs = nil
		for _, l := range visible {
			if l == id {
				query.LibraryIDs = []int64{id}
			}
		}
	}
	if len(query.LibraryIDs) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"items": []library.Item{}})
		return nil
	}
	if v := q.Get("parent"); v != "" {
		if query.ParentID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return badRequest("parent must be an id")
		}
	}
	for _, k := range strings.Split(q.Get("kind"), ",") {
		if k != "" {
			query.Kinds = append(query.Kinds, library.ItemKind(k))
		}
	}
	query.Limit, _ = strconv.Atoi(q.Get("limit"))
	query.Offset, _ = strconv.Atoi(q.Get("offset"))
	items, err := s.p.Library.Items(r.Context(), query)
	if err != nil {
		return err
	}
	if c.user.Role != auth.RoleAdmin {
		for i := range items {
			items[i].Path = ""
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) getItem(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	if err := s.checkItemAccess(r, c, id); err != nil {
		return err
	}
	it, err := s.p.Library.Item(r.Context(), id)
	if err != nil {
		return err
	}
	if c.user.Role != auth.RoleAdmin {
		it.Path = ""
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) editItem(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	var in library.Edit
	if err := decode(r, &in); err != nil {
		return err
	}
	it, err := s.p.Library.EditItem(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

// poster serves an item's poster. The client names an item id, never a
// path: the file is whatever the library recorded for that id. Guests may
// fetch posters of items queued in their parties.
func (s *Server) poster(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	if err := s.checkItemAccess(r, c, id); err != nil {
		if !s.queuedForMember(r.Context(), c.user.ID, id) {
			return err
		}
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
	if s.p.CDN != nil && s.p.CDN.URL != "" && r.URL.Query().Get("direct") == "" {
		s.posterRedirect(w, r, id, st)
		return nil
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Header().Set("Content-Type", "image/jpeg")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

// queuedForMember reports whether item id is queued in a party userID is in.
func (s *Server) queuedForMember(ctx context.Context, userID, itemID int64) bool {
	ps, err := s.p.Parties.List(ctx, userID, false)
	if err != nil {
		return false
	}
	src := strconv.FormatInt(itemID, 10)
	for _, p := range ps {
		q, err := s.p.Parties.Queue(ctx, p.ID)
		if err != nil {
			continue
		}
		for _, e := range q {
			if e.SourceID == src {
				return true
			}
		}
	}
	return false
}

// LibraryBridge lets the party service resolve and describe queue entries
// through the library: a queue entry's sourceId is a library item id.
type LibraryBridge struct {
	Lib *library.Service
}

// Resolve implements party.Resolver.
func (b LibraryBridge) Resolve(ctx context.Context, _ party.MediaType, sourceID string) (party.Target, error) {
	id, err := strconv.ParseInt(sourceID, 10, 64)
	if err != nil {
		return party.Target{}, library.ErrNotFound
	}
	t, err := b.Lib.ResolvePlayback(ctx, id, library.ResolveOptions{})
	if err != nil {
		return party.Target{}, err
	}
	pb := t.Playback
	return party.Target{MediaType: party.MediaType(t.MediaType), Title: t.Title, Playback: party.Playback{
		ItemID: pb.ItemID, StreamURL: pb.StreamURL, DownloadURL: pb.DownloadURL,
		DurationSeconds: pb.DurationSeconds, PosterURL: pb.PosterURL}}, nil
}

// Describe implements party.Catalog.
func (b LibraryBridge) Describe(ctx context.Context, sourceID string) (party.Description, error) {
	id, err := strconv.ParseInt(sourceID, 10, 64)
	if err != nil {
		return party.Description{}, library.ErrNotFound
	}
	it, err := b.Lib.Item(ctx, id)
	if err != nil {
		return party.Description{}, err
	}
	cr := b.Lib.Credits(ctx, it)
	d := party.Description{MediaType: party.MediaType(it.Kind), Title: library.DisplayTitle(it), Year: it.Year,
		RuntimeSeconds: float64(it.DurationMs) / 1000, Summary: it.Summary, Artist: cr.Artist, Album: cr.Album}
	if it.HasPoster {
		d.PosterURL = "/api/items/" + sourceID + "/poster"
	}
	return d, nil
}

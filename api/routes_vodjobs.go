package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/marquee-party/marquee/internal/vodjobs"
	"github.com/marquee-party/marquee/library"
)

// VODJobs runs pre-encoding jobs ("optimized versions", vod.Jobs).
type VODJobs interface {
	Start(targets []vodjobs.Target, renditions []string, by string) (vodjobs.Job, error)
	List() []vodjobs.Job
	Get(id int64) (vodjobs.Job, error)
	Cancel(ctx context.Context, id int64) (vodjobs.Job, error)
	Subscribe() (<-chan struct{}, func())
}

// MaxJobItems bounds the items of one pre-encoding job.
const MaxJobItems = 10000

// JobEventInterval is the shortest time between two progress events of
// one job's stream: a fast job (a remux) changes many times a second.
const JobEventInterval = 250 * time.Millisecond

func (s *Server) addVODJobRoutes() {
	s.add("POST", "/api/admin/vod/jobs", Admin, s.startVODJob)
	s.add("GET", "/api/admin/vod/jobs", Admin, s.listVODJobs)
	s.add("GET", "/api/admin/vod/jobs/{jobId}", Admin, s.getVODJob)
	s.add("DELETE", "/api/admin/vod/jobs/{jobId}", Admin, s.cancelVODJob)
	s.add("GET", "/api/admin/vod/jobs/{jobId}/events", Admin, s.vodJobEvents)
}

// errNoJobs answers the job routes when cmd/api runs without on-demand
// viewing.
var errNoJobs = apiErr(http.StatusNotFound, "not_found", "on-demand viewing is not enabled on this server")

// jobRequest is the body of POST /api/admin/vod/jobs.
type jobRequest struct {
	ItemIDs    []int64  `json:"itemIds"`
	LibraryID  int64    `json:"libraryId"`
	Renditions []string `json:"renditions"`
}

func (s *Server) startVODJob(w http.ResponseWriter, r *http.Request, c *caller) error {
	if s.p.VODJobs == nil {
		return errNoJobs
	}
	var in jobRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Renditions) == 0 {
		return badRequest("renditions is empty: name some, e.g. [\"720p\", \"480p\"]")
	}
	var targets []vodjobs.Target
	var err error
	switch {
	case (len(in.ItemIDs) > 0) == (in.LibraryID != 0):
		return badRequest("give either itemIds (a list of item ids) or libraryId, not both and not neither")
	case len(in.ItemIDs) > MaxJobItems:
		return badRequest("%d items: at most %d per job", len(in.ItemIDs), MaxJobItems)
	case in.LibraryID != 0:
		targets, err = s.libraryTargets(r.Context(), in.LibraryID)
	default:
		targets, err = s.itemTargets(r.Context(), in.ItemIDs)
	}
	if err != nil {
		return err
	}
	job, err := s.p.VODJobs.Start(targets, in.Renditions, c.user.Username)
	if err != nil {
		return jobErr(err)
	}
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

// itemTargets resolves item ids to their files; an id that is not a
// playable local file is refused.
func (s *Server) itemTargets(ctx context.Context, ids []int64) ([]vodjobs.Target, error) {
	roots := map[int64]library.Root{}
	var out []vodjobs.Target
	for _, id := range ids {
		if id <= 0 {
			return nil, badRequest("itemIds must be positive integers")
		}
		it, err := s.p.Library.Item(ctx, id)
		if errors.Is(err, library.ErrNotFound) {
			return nil, badRequest("item %d does not exist", id)
		}
		if err != nil {
			return nil, err
		}
		if it.Kind != library.ItemMovie && it.Kind != library.ItemEpisode {
			return nil, badRequest("item %d is a %s: pick films or episodes (or the whole library)", id, it.Kind)
		}
		t, err := s.target(ctx, roots, it)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// libraryTargets lists the films and episodes of a library.
func (s *Server) libraryTargets(ctx context.Context, libID int64) ([]vodjobs.Target, error) {
	if libID < 0 {
		return nil, badRequest("libraryId must be a positive integer")
	}
	if _, err := s.p.Library.Library(ctx, libID); errors.Is(err, library.ErrNotFound) {
		return nil, badRequest("library %d does not exist", libID)
	} else if err != nil {
		return nil, err
	}
	roots := map[int64]library.Root{}
	var out []vodjobs.Target
	for off := 0; ; off += 1000 {
		items, err := s.p.Library.Items(ctx, library.Query{LibraryIDs: []int64{libID}, Limit: 1000, Offset: off,
			Kinds: []library.ItemKind{library.ItemMovie, library.ItemEpisode}})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			t, err := s.target(ctx, roots, it)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(items) < 1000 || len(out) > MaxJobItems {
			break
		}
	}
	switch {
	case len(out) == 0:
		return nil, badRequest("library %d has no films or episodes to encode (scan it first?)", libID)
	case len(out) > MaxJobItems:
		return nil, badRequest("library %d has more than %d items: start jobs for fewer items", libID, MaxJobItems)
	}
	return out, nil
}

// target is an item's file and the root of its library (opened once per
// library).
func (s *Server) target(ctx context.Context, roots map[int64]library.Root, it library.Item) (vodjobs.Target, error) {
	root, ok := roots[it.LibraryID]
	if !ok {
		l, err := s.p.Library.Library(ctx, it.LibraryID)
		if err != nil {
			return vodjobs.Target{}, err
		}
		if l.Source != library.SourceLocal {
			return vodjobs.Target{}, badRequest("item %d is in library %q, which is not local files", it.ID, l.Name)
		}
		if root, err = library.NewRoot(l.Location); err != nil {
			return vodjobs.Target{}, fmt.Errorf("library %d root: %w", l.ID, err)
		}
		roots[it.LibraryID] = root
	}
	if it.Path == "" {
		return vodjobs.Target{}, badRequest("item %d has no file", it.ID)
	}
	return vodjobs.Target{ItemID: it.ID, Title: it.Title, Open: root, Path: it.Path}, nil
}

// jobErr maps the job runner's errors to API errors.
func jobErr(err error) error {
	switch {
	case errors.Is(err, vodjobs.ErrInvalid):
		return badRequest("%s", err.Error())
	case errors.Is(err, vodjobs.ErrNotFound):
		return apiErr(http.StatusNotFound, "not_found", "no such job (finished jobs are kept until the server restarts, the last 50)")
	}
	return err
}

func (s *Server) listVODJobs(w http.ResponseWriter, _ *http.Request, _ *caller) error {
	if s.p.VODJobs == nil {
		return errNoJobs
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": s.p.VODJobs.List()})
	return nil
}

func (s *Server) getVODJob(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if s.p.VODJobs == nil {
		return errNoJobs
	}
	id, err := pathID(r, "jobId")
	if err != nil {
		return err
	}
	job, err := s.p.VODJobs.Get(id)
	if err != nil {
		return jobErr(err)
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

// cancelVODJob cancels a job and answers it once it has stopped (or as it
// is, if it had already ended).
func (s *Server) cancelVODJob(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if s.p.VODJobs == nil {
		return errNoJobs
	}
	id, err := pathID(r, "jobId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	job, err := s.p.VODJobs.Cancel(ctx, id)
	if err != nil {
		return jobErr(err)
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

// vodJobEvents streams a job's status as server-sent events: one event
// (data: the job JSON, id: its seq) now and after changes, at most one per
// JobEventInterval, until the job ends.
func (s *Server) vodJobEvents(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if s.p.VODJobs == nil {
		return errNoJobs
	}
	id, err := pathID(r, "jobId")
	if err != nil {
		return err
	}
	changed, stop := s.p.VODJobs.Subscribe()
	defer stop()
	job, err := s.p.VODJobs.Get(id)
	if err != nil {
		return jobErr(err)
	}
	rc, done := s.openSSE(w)
	defer done()
	keep := time.NewTicker(SSEKeepAlive)
	defer keep.Stop()
	for {
		if err := writeSSE(w, job.Seq, job); err != nil || rc.Flush() != nil || job.State.Final() {
			return nil
		}
		sent := time.Now()
		for again := true; again; {
			select {
			case <-r.Context().Done():
				return nil
			case <-keep.C:
				if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
					return nil
				}
			case <-changed:
				again = false
			}
		}
		if wait := JobEventInterval - time.Since(sent); wait > 0 {
			select {
			case <-r.Context().Done():
				return nil
			case <-time.After(wait):
			}
		}
		if job, err = s.p.VODJobs.Get(id); err != nil {
			return nil // forgotten: the client reloads the list
		}
	}
}

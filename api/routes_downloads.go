package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/downloads"
)

// addDownloadRoutes registers the offline downloads API (issue #15; the
// wire types are package downloads'). Files themselves are served by
// downloads.Handler under downloads.FilesPrefix, mounted by cmd/api.
func (s *Server) addDownloadRoutes() {
	s.add("GET", "/api/downloads/profiles", Member, s.dlProfiles)
	s.add("GET", "/api/downloads/devices", Member, s.dlDevices)
	s.add("POST", "/api/downloads/devices", Member, s.dlRegister)
	s.add("DELETE", "/api/downloads/devices/{deviceId}", Member, s.dlRevoke)
	s.add("POST", "/api/downloads/devices/{deviceId}/checkin", Member, s.dlCheckIn)
	s.add("GET", "/api/downloads/jobs", Member, s.dlJobs)
	s.add("POST", "/api/downloads/jobs", Member, s.dlCreateJob)
	s.add("GET", "/api/downloads/jobs/{jobId}", Member, s.dlJob)
	s.add("DELETE", "/api/downloads/jobs/{jobId}", Member, s.dlDeleteJob)
	s.add("POST", "/api/downloads/jobs/{jobId}/items/{itemId}/retry", Member, s.dlRetry)
	s.add("POST", "/api/downloads/jobs/{jobId}/items/{itemId}/downloaded", Member, s.dlDownloaded)
	s.add("GET", "/api/downloads/events", Member, s.dlEvents)
	s.add("GET", "/api/admin/users/{userId}/download-rules", Admin, s.dlRules)
	s.add("PUT", "/api/admin/users/{userId}/download-rules", Admin, s.dlSetRules)
	s.add("GET", "/api/admin/users/{userId}/download-devices", Admin, s.dlUserDevices)
}

// dlUser is the caller as package downloads sees it: what it may see is
// the API's library access rule.
func (s *Server) dlUser(c *caller) downloads.User {
	u := c.user
	return downloads.User{ID: u.ID, Admin: u.Role == auth.RoleAdmin, CanSee: func(ctx context.Context, lib int64) (bool, error) {
		return s.p.Auth.CanAccessLibrary(ctx, u, strconv.FormatInt(lib, 10))
	}}
}

// dlAnswer writes v, or err as the downloads contract's JSON error
// ({error, code, message, rule}); other errors go to the API's writer.
func dlAnswer(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		if downloads.WriteError(w, err) {
			return nil
		}
		return err
	}
	if v == nil {
		w.WriteHeader(status)
		return nil
	}
	writeJSON(w, status, v)
	return nil
}

func (s *Server) dlProfiles(w http.ResponseWriter, r *http.Request, c *caller) error {
	ps, err := s.p.Downloads.Profiles(r.Context(), s.dlUser(c))
	return dlAnswer(w, http.StatusOK, ps, err)
}

func (s *Server) dlDevices(w http.ResponseWriter, r *http.Request, c *caller) error {
	return dlAnswer(w, http.StatusOK, s.p.Downloads.Devices(s.dlUser(c)), nil)
}

func (s *Server) dlRegister(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.p.Downloads.RegisterDevice(r.Context(), s.dlUser(c), in.Name)
	return dlAnswer(w, http.StatusCreated, d, err)
}

func (s *Server) dlRevoke(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.p.Downloads.RevokeDevice(r.Context(), s.dlUser(c), r.PathValue("deviceId"))
	return dlAnswer(w, http.StatusNoContent, nil, err)
}

func (s *Server) dlCheckIn(w http.ResponseWriter, r *http.Request, c *caller) error {
	d, err := s.p.Downloads.CheckIn(r.Context(), s.dlUser(c), r.PathValue("deviceId"))
	return dlAnswer(w, http.StatusOK, d, err)
}

func (s *Server) dlJobs(w http.ResponseWriter, r *http.Request, c *caller) error {
	return dlAnswer(w, http.StatusOK, s.p.Downloads.Jobs(s.dlUser(c)), nil)
}

func (s *Server) dlCreateJob(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in downloads.JobRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	j, err := s.p.Downloads.CreateJob(r.Context(), s.dlUser(c), in)
	return dlAnswer(w, http.StatusAccepted, j, err)
}

func (s *Server) dlJob(w http.ResponseWriter, r *http.Request, c *caller) error {
	j, err := s.p.Downloads.Job(s.dlUser(c), r.PathValue("jobId"))
	return dlAnswer(w, http.StatusOK, j, err)
}

func (s *Server) dlDeleteJob(w http.ResponseWriter, r *http.Request, c *caller) error {
	err := s.p.Downloads.DeleteJob(r.Context(), s.dlUser(c), r.PathValue("jobId"))
	return dlAnswer(w, http.StatusNoContent, nil, err)
}

func (s *Server) dlRetry(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	j, err := s.p.Downloads.Retry(r.Context(), s.dlUser(c), r.PathValue("jobId"), id)
	return dlAnswer(w, http.StatusAccepted, j, err)
}

func (s *Server) dlDownloaded(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "itemId")
	if err != nil {
		return err
	}
	j, err := s.p.Downloads.MarkDownloaded(r.Context(), s.dlUser(c), r.PathValue("jobId"), id)
	return dlAnswer(w, http.StatusOK, j, err)
}

// dlEvents streams the caller's jobs as server-sent events
// (https://html.spec.whatwg.org/multipage/server-sent-events.html): event
// "job", data the Job JSON, first every current job, then each change.
func (s *Server) dlEvents(w http.ResponseWriter, r *http.Request, c *caller) error {
	u := s.dlUser(c)
	ch, stop := s.p.Downloads.Subscribe(u)
	defer stop()
	rc, done := s.openSSE(w)
	defer done()
	for _, j := range s.p.Downloads.Jobs(u) {
		if writeJobEvent(w, j) != nil {
			return nil
		}
	}
	_, _ = fmt.Fprint(w, ": connected\n\n")
	keep := time.NewTicker(SSEKeepAlive)
	defer keep.Stop()
	for {
		if err := rc.Flush(); err != nil {
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
		case j, ok := <-ch:
			if !ok {
				return nil // fell behind or stopping: the client reconnects
			}
			if writeJobEvent(w, j) != nil {
				return nil
			}
		}
	}
}

func writeJobEvent(w http.ResponseWriter, j downloads.Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: job\ndata: %s\n\n", b)
	return err
}

func (s *Server) dlRules(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	u, err := s.p.Auth.User(r.Context(), id)
	if err != nil {
		return err
	}
	rules, err := s.p.Downloads.Rules(r.Context(), u.ID, u.Role == auth.RoleAdmin)
	return dlAnswer(w, http.StatusOK, rules, err)
}

func (s *Server) dlSetRules(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	u, err := s.p.Auth.User(r.Context(), id)
	if err != nil {
		return err
	}
	var in downloads.Rules
	if err := decode(r, &in); err != nil {
		return err
	}
	err = s.p.Downloads.SetRules(r.Context(), u.ID, in)
	return dlAnswer(w, http.StatusOK, in, err)
}

// dlUserDevices lists another user's devices, so an admin can revoke one
// (DELETE /api/downloads/devices/{id} accepts any device from an admin).
func (s *Server) dlUserDevices(w http.ResponseWriter, r *http.Request, _ *caller) error {
	id, err := pathID(r, "userId")
	if err != nil {
		return err
	}
	if _, err := s.p.Auth.User(r.Context(), id); err != nil {
		return err
	}
	return dlAnswer(w, http.StatusOK, s.p.Downloads.DevicesOf(id), nil)
}

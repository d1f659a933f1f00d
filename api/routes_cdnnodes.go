package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

// CDNRegistry registers and authenticates CDN nodes (cdnctl.Registry).
type CDNRegistry interface {
	Challenge(ctx context.Context) (cdnwire.Challenge, error)
	Register(ctx context.Context, req cdnwire.RegisterRequest) (cdnwire.Registration, error)
	Authenticate(ctx context.Context, credential string) (string, error)
	List(ctx context.Context) ([]cdnwire.NodeInfo, error)
	Rename(ctx context.Context, id, name string) error
	Revoke(ctx context.Context, id string) error
}

// errNodeRevoked answers every request carrying a revoked node's credential.
var errNodeRevoked = apiErr(http.StatusUnauthorized, "cdn_node_revoked",
	"this CDN node was revoked by an admin; delete its registration.json from its data dir to register it again")

// addCDNNodeRoutes registers registration (public: the proof is the
// authentication) and the admin's list, rename and revoke.
func (s *Server) addCDNNodeRoutes() {
	s.add("POST", cdnwire.ChallengePath, Public, s.cdnChallenge)
	s.add("POST", cdnwire.RegisterPath, Public, s.cdnRegister)
	s.add("GET", cdnwire.NodePath, Public, s.cdnWhoAmI)
	s.add("GET", "/api/admin/cdn/nodes", Admin, s.cdnNodes)
	s.add("PATCH", "/api/admin/cdn/nodes/{nodeId}", Admin, s.cdnRename)
	s.add("POST", "/api/admin/cdn/nodes/{nodeId}/revoke", Admin, s.cdnRevoke)
}

func (s *Server) cdnChallenge(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req cdnwire.ChallengeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ch, err := s.p.CDNNodes.Challenge(r.Context())
	if err != nil {
		return cdnError(err)
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}

func (s *Server) cdnRegister(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req cdnwire.RegisterRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	reg, err := s.p.CDNNodes.Register(r.Context(), req)
	if err != nil {
		return cdnError(err)
	}
	writeJSON(w, http.StatusOK, reg)
	return nil
}

// cdnWhoAmI tells a node whether its stored credential still holds.
func (s *Server) cdnWhoAmI(w http.ResponseWriter, r *http.Request, _ *caller) error {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	id, err := s.p.CDNNodes.Authenticate(r.Context(), tok)
	switch {
	case errors.Is(err, cdnctl.ErrRevoked):
		return errNodeRevoked
	case errors.Is(err, cdnctl.ErrUnknownCredential):
		return apiErr(http.StatusUnauthorized, "cdn_unknown_node", "this API does not know the node's credential; the node registers again")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"node_id": id})
	return nil
}

func (s *Server) cdnNodes(w http.ResponseWriter, r *http.Request, _ *caller) error {
	nodes, err := s.p.CDNNodes.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": nodes})
	return nil
}

func (s *Server) cdnRename(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.p.CDNNodes.Rename(r.Context(), r.PathValue("nodeId"), req.Name); err != nil {
		return cdnError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) cdnRevoke(w http.ResponseWriter, r *http.Request, _ *caller) error {
	if err := s.p.CDNNodes.Revoke(r.Context(), r.PathValue("nodeId")); err != nil {
		return cdnError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// cdnNodeAuthorized checks r's bearer credential against the registry: ok
// for a registered node, errNodeRevoked for a revoked one, and neither for
// anything else (which may still be a user's token or the origin token).
func (s *Server) cdnNodeAuthorized(r *http.Request) (bool, error) {
	if s.p.CDNNodes == nil {
		return false, nil
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return false, nil
	}
	_, err := s.p.CDNNodes.Authenticate(r.Context(), tok)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, cdnctl.ErrRevoked):
		return false, errNodeRevoked
	case errors.Is(err, cdnctl.ErrUnknownCredential):
		return false, nil
	}
	return false, err
}

// cdnError maps the registry's errors to statuses and codes; the messages
// say what to do.
func cdnError(err error) error {
	var code string
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, cdnctl.ErrBadProof):
		status, code = http.StatusUnauthorized, "cdn_bad_proof"
	case errors.Is(err, cdnctl.ErrNoRegistration):
		status, code = http.StatusNotFound, "cdn_registration_off"
	case errors.Is(err, cdnctl.ErrNameTaken):
		status, code = http.StatusConflict, "cdn_name_taken"
	case errors.Is(err, cdnctl.ErrRevoked):
		return errNodeRevoked
	case errors.Is(err, cdnctl.ErrNoNode):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, cdnctl.ErrBadNode):
		code = "cdn_bad_node"
	default:
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "cdnctl: ")
	if code == "cdn_bad_proof" {
		msg += "; check that cdn.psk on the node equals cdn.node_psk on the API"
	}
	return apiErr(status, code, msg)
}

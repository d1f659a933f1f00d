package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

// CDNHeartbeats answers CDN nodes' heartbeats (cdnctl.Heartbeats).
type CDNHeartbeats interface {
	// Authenticate returns the node of a credential, or an error wrapping
	// cdnctl.ErrNodeRefused.
	Authenticate(ctx context.Context, credential string) (nodeID string, err error)
	Handle(ctx context.Context, nodeID string, hb *cdnwire.Heartbeat) (cdnwire.HeartbeatReply, error)
}

// maxHeartbeat bounds a heartbeat's body: a full inventory of a large node
// (segments travel as runs, so this is tens of thousands of objects).
const maxHeartbeat = 32 << 20

var errNodeRefused = apiErr(http.StatusUnauthorized, "node_refused",
	"unknown or revoked node credential; restart the node so that it registers again")

// addCDNHeartbeatRoutes registers the nodes' heartbeat (issue #16).
func (s *Server) addCDNHeartbeatRoutes() {
	s.add("POST", cdnwire.HeartbeatPath, CDNNode, s.cdnHeartbeat)
}

// cdnHeartbeat applies a node's heartbeat and answers its pending tasks.
func (s *Server) cdnHeartbeat(w http.ResponseWriter, r *http.Request, _ *caller) error {
	cred, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || cred == "" {
		return errNodeRefused
	}
	node, err := s.p.CDNHeartbeats.Authenticate(r.Context(), cred)
	if errors.Is(err, cdnctl.ErrNodeRefused) {
		return errNodeRefused
	}
	if err != nil {
		return err
	}
	var hb cdnwire.Heartbeat
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHeartbeat)).Decode(&hb); err != nil {
		return badRequest("heartbeat body is not a cdnwire.Heartbeat: %v", err)
	}
	reply, err := s.p.CDNHeartbeats.Handle(r.Context(), node, &hb)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}

package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
	"github.com/marquee-party/marquee/vod"
	"github.com/marquee-party/marquee/vod/segcache"
)

// NodeAuth authenticates a CDN node by its credential (cdnctl's registry
// implements it).
type NodeAuth interface {
	Authenticate(ctx context.Context, credential string) (nodeID string, err error)
}

// NodeOwners tells who may ask a node to replicate: a local node's owner
// (cdnctl's registry implements it).
type NodeOwners interface {
	// NodeOwner returns the node's mode and its owner's user id (0 for
	// a shared node); an unknown node is an error.
	NodeOwner(ctx context.Context, nodeID string) (mode string, ownerUserID int64, err error)
}

// CDNReplParams serves manifests to nodes and replication requests to
// users (issue #16).
type CDNReplParams struct {
	Nodes      NodeAuth
	Owners     NodeOwners
	Replicator *cdnctl.Replicator
}

func (s *Server) addCDNReplRoutes() {
	// Public: a node authenticates with its credential in the handler.
	s.add("GET", cdnwire.ManifestPath, Public, s.cdnManifest)
	s.add("POST", "/api/cdn/nodes/{nodeId}/replicate", Member, s.cdnReplicate)
}

// maxRenditions bounds the renditions one request names.
const maxRenditions = 16

// renditionList parses "720p,a1" (empty: all renditions).
func renditionList(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	out := strings.Split(v, ",")
	if len(out) > maxRenditions {
		return nil, badRequest("at most %d renditions, comma-separated, e.g. 720p,a1", maxRenditions)
	}
	for _, r := range out {
		if r == "" || len(r) > 32 {
			return nil, badRequest("renditions must be names such as 720p or a1, comma-separated")
		}
	}
	return out, nil
}

// cdnManifest answers GET /api/cdn/manifest?item=&renditions= for a node.
func (s *Server) cdnManifest(w http.ResponseWriter, r *http.Request, _ *caller) error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return apiErr(http.StatusUnauthorized, "node_credential_missing", "send the node credential as Authorization: Bearer <credential>")
	}
	if _, err := s.p.CDNRepl.Nodes.Authenticate(r.Context(), tok); err != nil {
		return apiErr(http.StatusUnauthorized, "node_credential_invalid", "this node credential is unknown or revoked; register the node again")
	}
	id, err := strconv.ParseInt(r.URL.Query().Get("item"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest("item must be a positive item id")
	}
	rends, err := renditionList(r.URL.Query().Get("renditions"))
	if err != nil {
		return err
	}
	man, err := s.p.CDNRepl.Replicator.Manifests.Manifest(r.Context(), id, rends)
	if err != nil {
		return replErr(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, man)
	return nil
}

// replicateRequest is the body of POST /api/cdn/nodes/{nodeId}/replicate.
type replicateRequest struct {
	ItemID     int64    `json:"item_id"`
	Renditions []string `json:"renditions"`
}

// replicateReply says what was queued.
type replicateReply struct {
	TaskID  string `json:"task_id"`
	Objects int    `json:"objects"`
	Bytes   int64  `json:"bytes"`
}

// cdnReplicate queues a replication task for a node: admins for any node,
// members for the local nodes they own, of items they may watch.
func (s *Server) cdnReplicate(w http.ResponseWriter, r *http.Request, c *caller) error {
	node := r.PathValue("nodeId")
	mode, owner, err := s.p.CDNRepl.Owners.NodeOwner(r.Context(), node)
	if err != nil {
		return apiErr(http.StatusNotFound, "not_found", "no such CDN node")
	}
	if c.user.Role != auth.RoleAdmin && (mode != cdnwire.ModeLocal || owner != c.user.ID) {
		return apiErr(http.StatusForbidden, "forbidden", "only an admin, or the owner of a local node, may ask it to copy items")
	}
	var in replicateRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.ItemID <= 0 {
		return badRequest("item_id must be a positive item id")
	}
	if len(in.Renditions) > maxRenditions || slices.Contains(in.Renditions, "") {
		return badRequest("renditions must name at most %d renditions, e.g. [\"720p\", \"a1\"]", maxRenditions)
	}
	if err := s.checkItemAccess(r, c, in.ItemID); err != nil {
		return err
	}
	t, err := s.p.CDNRepl.Replicator.Replicate(r.Context(), node, in.ItemID, in.Renditions)
	if err != nil {
		return replErr(err)
	}
	out := replicateReply{TaskID: t.ID, Objects: len(t.Objects)}
	for _, o := range t.Objects {
		out.Bytes += o.Bytes
	}
	writeJSON(w, http.StatusAccepted, out)
	return nil
}

// replErr maps manifest failures to answers.
func replErr(err error) error {
	switch {
	case errors.Is(err, cdnctl.ErrNoObjects):
		return apiErr(http.StatusNotFound, "no_objects", "the item has no objects in those renditions; check the rendition names (e.g. 720p, a1)")
	case errors.Is(err, vod.ErrNotFound):
		return apiErr(http.StatusNotFound, "not_found", "no such item or rendition")
	}
	return err
}

// VODObjects lists an item's HLS objects from the VOD service for
// manifests (cdnctl.ItemObjects): init segment and segments of each
// rendition, made by vod's encoders when not cached yet.
type VODObjects struct {
	Media   *vod.Service
	Resolve vod.Resolver
}

// ItemObjects implements cdnctl.ItemObjects.
func (v VODObjects) ItemObjects(ctx context.Context, itemID int64, renditions []string) ([]cdnctl.ItemObject, error) {
	open, path, err := v.Resolve(ctx, itemID)
	if err != nil {
		return nil, err
	}
	x, err := v.Media.Export(open, path)
	if err != nil {
		return nil, err
	}
	var out []cdnctl.ItemObject
	for _, rd := range x.Renditions() {
		if len(renditions) > 0 && !slices.Contains(renditions, rd.Name) {
			continue
		}
		for k := segcache.InitIndex; k < rd.Segments; k++ {
			key, err := x.ObjectPath(itemID, rd.Name, k)
			if err != nil {
				return nil, err
			}
			name, k := rd.Name, k
			out = append(out, cdnctl.ItemObject{Kind: cdnwire.KindSegment, Key: key,
				Open: func(ctx context.Context) (io.ReadCloser, error) {
					if k == segcache.InitIndex {
						return x.Init(ctx, name)
					}
					return x.Segment(ctx, name, k)
				}})
		}
	}
	return out, nil
}

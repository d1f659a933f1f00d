package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

// CDNChooser picks the CDN nodes that serve a viewer (cdnctl.Chooser).
type CDNChooser interface {
	Choose(ctx context.Context, v cdnctl.Viewer, itemID int64, max int) ([]cdnwire.NodeInfo, error)
	Options(ctx context.Context, v cdnctl.Viewer, itemID, itemBytes int64) ([]cdnwire.NodeInfo, error)
	Chosen(ctx context.Context, v cdnctl.Viewer) (string, error)
	Pick(ctx context.Context, v cdnctl.Viewer, nodeID string) error
}

// HLSNodeSigner signs master playlist URLs served through CDN nodes
// (vod.Handler.MasterURLVia).
type HLSNodeSigner interface {
	MasterURLVia(itemID int64, nodes []string) string
}

// hlsCandidates is how many nodes a master playlist lists before the origin.
const hlsCandidates = 2

// cdnChoiceOut is the body of GET and PUT /api/me/cdn-node.
type cdnChoiceOut struct {
	NodeID string             `json:"nodeId"`
	Nodes  []cdnwire.NodeInfo `json:"nodes"`
}

// addCDNChoiceRoutes registers the viewer's node picker (issue #16).
func (s *Server) addCDNChoiceRoutes() {
	s.add("GET", "/api/me/cdn-node", User, s.getCDNNode)
	s.add("PUT", "/api/me/cdn-node", User, s.putCDNNode)
}

func viewer(c *caller) cdnctl.Viewer {
	return cdnctl.Viewer{UserID: c.user.ID, Username: c.user.Username}
}

// getCDNNode answers the caller's chosen node ("" for automatic) and the
// nodes they may pick, with has_item for ?item=<id>.
func (s *Server) getCDNNode(w http.ResponseWriter, r *http.Request, c *caller) error {
	var item int64
	if v := r.URL.Query().Get("item"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("item must be a positive item id")
		}
		item = id
	}
	return s.writeCDNChoice(w, r, c, item)
}

func (s *Server) writeCDNChoice(w http.ResponseWriter, r *http.Request, c *caller, item int64) error {
	chosen, err := s.p.CDNChooser.Chosen(r.Context(), viewer(c))
	if err != nil {
		return err
	}
	// The share held needs the item's size, which the index does not
	// know; without it the picker shows holders by bytes (TODO manifest).
	nodes, err := s.p.CDNChooser.Options(r.Context(), viewer(c), item, 0)
	if err != nil {
		return err
	}
	if nodes == nil {
		nodes = []cdnwire.NodeInfo{}
	}
	writeJSON(w, http.StatusOK, cdnChoiceOut{NodeID: chosen, Nodes: nodes})
	return nil
}

// putCDNNode records the caller's choice; {"nodeId": ""} goes back to
// automatic choice.
func (s *Server) putCDNNode(w http.ResponseWriter, r *http.Request, c *caller) error {
	var in struct {
		NodeID *string `json:"nodeId"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.NodeID == nil {
		return badRequest(`send {"nodeId": "<node id>"}, or {"nodeId": ""} for automatic choice`)
	}
	err := s.p.CDNChooser.Pick(r.Context(), viewer(c), *in.NodeID)
	if errors.Is(err, cdnctl.ErrNodeNotAllowed) {
		return apiErr(http.StatusBadRequest, "node_not_allowed", err.Error())
	}
	if err != nil {
		return err
	}
	return s.writeCDNChoice(w, r, c, 0)
}

// hlsMasterURL signs the master playlist for c: through their best CDN
// nodes, then the origin, when nodes are registered; else the plain one.
func (s *Server) hlsMasterURL(ctx context.Context, c *caller, itemID int64) string {
	via, ok := s.p.HLS.(HLSNodeSigner)
	if !ok || s.p.CDNChooser == nil || c == nil {
		return s.p.HLS.MasterURL(itemID)
	}
	nodes, err := s.p.CDNChooser.Choose(ctx, viewer(c), itemID, hlsCandidates)
	if err != nil {
		s.log.Warn("cdn node choice failed; serving from the origin", "err", err)
		return s.p.HLS.MasterURL(itemID)
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	return via.MasterURLVia(itemID, ids)
}

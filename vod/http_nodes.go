package vod

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/marquee-party/marquee/cdn"
)

// NodeSigner gives the signer of URLs for one CDN node: each registered
// node verifies URLs with its own key (the registry, cdnctl).
type NodeSigner interface {
	SignerFor(nodeID string) (*cdn.Signer, error)
}

// NodeURLs tells a registered node's public base URL; it fails for an
// unknown or revoked node.
type NodeURLs interface {
	NodeURL(ctx context.Context, nodeID string) (string, error)
}

// MaxCandidates bounds the nodes one master playlist lists before the origin.
const MaxCandidates = 4

var nodeIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// UseNodes enables per-node playlists (issue #16): see MasterURLVia.
func (h *Handler) UseNodes(s NodeSigner, u NodeURLs) { h.nodeSigner, h.nodeURLs = s, u }

// MasterURLVia is the signed master playlist URL of an item for a caller
// already allowed to watch it, served by the given CDN nodes (best first,
// at most MaxCandidates) and then the origin. The playlist lists every
// variant once per node and once more for the origin, in that order:
// redundant variant streams (RFC 8216 §4.3.4.2 and §6.3.6, same attributes,
// different URIs), which a player falls back along when a node stops
// answering (hls.js keeps them as level.url and switches on errors). With
// no nodes it is MasterURL.
func (h *Handler) MasterURLVia(itemID int64, nodes []string) string {
	if len(nodes) == 0 || h.nodeSigner == nil {
		return h.MasterURL(itemID)
	}
	if len(nodes) > MaxCandidates {
		nodes = nodes[:MaxCandidates]
	}
	exp := h.now().Truncate(time.Minute).Add(URLTTL)
	return h.signer.Sign(fmt.Sprintf("%s%d/via/%s/master.m3u8", Prefix, itemID, strings.Join(nodes, ",")), exp)
}

// routeNodes registers the per-node playlists.
func (h *Handler) routeNodes() {
	h.mux.HandleFunc("GET "+Prefix+"{item}/via/{nodes}/master.m3u8", h.masterVia)
	h.mux.HandleFunc("GET "+Prefix+"{item}/via/{node}/{ver}/{rend}/index.m3u8", h.mediaVia)
}

// masterVia lists each variant per node, then per the origin.
func (h *Handler) masterVia(w http.ResponseWriter, r *http.Request) {
	nodes := strings.Split(r.PathValue("nodes"), ",")
	for _, n := range nodes {
		if !nodeIDRE.MatchString(n) || len(nodes) > MaxCandidates || h.nodeSigner == nil {
			writeErr(w, http.StatusNotFound, "not_found", "no such playlist")
			return
		}
	}
	id, it, ok := h.item(w, r)
	if !ok {
		return
	}
	e := exp(r)
	alt := h.altGroups(id, it, e)
	var head, variants strings.Builder
	for i, n := range append(nodes, "") {
		body := masterPlaylist(it.tl, func(rd Rendition) string {
			if n == "" {
				return h.signer.Sign(fmt.Sprintf("%s%d/%s/%s/index.m3u8", Prefix, id, it.src.ID(), rd.Name), e)
			}
			return h.signer.Sign(fmt.Sprintf("%s%d/via/%s/%s/%s/index.m3u8", Prefix, id, n, it.src.ID(), rd.Name), e)
		}, alt)
		at := strings.Index(body, "#EXT-X-STREAM-INF")
		if at < 0 {
			at = len(body)
		}
		if i == 0 {
			head.WriteString(body[:at])
		}
		variants.WriteString(body[at:])
	}
	h.writePlaylist(w, head.String()+variants.String())
}

// mediaVia is a media playlist whose init segment and segments are on one
// node, signed for it. An unknown or revoked node is 404, which a player
// treats as that variant failing, and moves on to the next.
func (h *Handler) mediaVia(w http.ResponseWriter, r *http.Request) {
	node := r.PathValue("node")
	if !nodeIDRE.MatchString(node) || h.nodeSigner == nil {
		writeErr(w, http.StatusNotFound, "not_found", "no such playlist")
		return
	}
	id, it, ok := h.item(w, r)
	if !ok {
		return
	}
	rd, ok := h.version(w, r, it)
	if !ok {
		return
	}
	base, err := h.nodeURLs.NodeURL(r.Context(), node)
	if err != nil {
		writeErr(w, http.StatusNotFound, "node_gone", "this CDN node is gone; the player moves on to the next one")
		return
	}
	s, err := h.nodeSigner.SignerFor(node)
	if err != nil {
		writeErr(w, http.StatusNotFound, "node_gone", "this CDN node is gone; the player moves on to the next one")
		return
	}
	h.writePlaylist(w, h.mediaBody(id, it, rd, exp(r), strings.TrimSuffix(base, "/"), s))
}

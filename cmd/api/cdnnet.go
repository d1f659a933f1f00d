package main

import (
	"context"
	"database/sql"
	"log/slog"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
	"github.com/prometheus/client_golang/prometheus"
)

// cdnNetwork is the control plane's side of registered CDN nodes (issue
// #16): heartbeats into the global index, the choice of nodes for
// viewers, and replication tasks. It exists only with cdn.node_psk.
type cdnNetwork struct {
	heartbeats *cdnctl.Heartbeats
	chooser    *cdnctl.Chooser
	repl       *api.CDNReplParams
}

// newCDNNetwork wires the registry, the SQLite index, heartbeats, the
// chooser and the replicator, and has HLS master playlists go through the
// viewers' nodes before the origin.
func newCDNNetwork(db *sql.DB, nodes *cdnctl.Registry, origin string, lib *library.Service, media *vod.Service, hls *vod.Handler,
	log *slog.Logger, reg prometheus.Registerer) (*cdnNetwork, error) {
	if nodes == nil {
		return nil, nil
	}
	idx, tasks := cdnctl.NewSQLiteIndex(db), cdnctl.NewTasks()
	hbs, err := cdnctl.NewHeartbeats(cdnctl.HeartbeatParams{Auth: nodes, Index: idx, Nodes: cdnctl.NewSQLiteNodes(db),
		Tasks: tasks, Every: cdn.DefaultHeartbeat, Logger: log.With("component", "cdn-heartbeats"), Registerer: reg})
	if err != nil {
		return nil, err
	}
	hls.UseNodes(nodes, cdnctl.NodeURLs{Nodes: nodes})
	repl := &cdnctl.Replicator{Manifests: cdnctl.NewManifests(api.VODObjects{Media: media, Resolve: vodResolver(lib)}),
		Holders: cdnctl.IndexHolders{Index: idx, Nodes: nodes}, Signer: nodes, Tasks: tasks, Origin: origin}
	return &cdnNetwork{
		heartbeats: hbs,
		chooser:    &cdnctl.Chooser{Nodes: nodes, Index: idx, Choices: cdnctl.NewSQLiteChoices(db)},
		repl:       &api.CDNReplParams{Nodes: nodes, Owners: nodes, Replicator: repl},
	}, nil
}

// params fills the API's CDN network parameters (none without a network).
func (n *cdnNetwork) params(p *api.Params) {
	if n == nil {
		return
	}
	p.CDNHeartbeats, p.CDNChooser, p.CDNRepl = n.heartbeats, n.chooser, n.repl
}

// parts are the network's background loops: marking silent nodes down.
func (n *cdnNetwork) parts() []lifecycle.Part {
	if n == nil {
		return nil
	}
	return []lifecycle.Part{func(ctx context.Context) error { n.heartbeats.Run(ctx); return nil }}
}

package main

import (
	"context"
	"database/sql"
	"log/slog"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
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
	planner    *cdnctl.Planner
}

// cdnDeps are what the network's planner reads: the catalog, parties and
// users.
type cdnDeps struct {
	lib      *library.Service
	parties  *party.Service
	accounts *auth.Store
}

// newCDNNetwork wires the registry, the SQLite index, heartbeats, the
// chooser and the replicator, and has HLS master playlists go through the
// viewers' nodes before the origin.
func newCDNNetwork(db *sql.DB, nodes *cdnctl.Registry, origin string, deps cdnDeps, media *vod.Service, hls *vod.Handler,
	log *slog.Logger, reg prometheus.Registerer) (*cdnNetwork, error) {
	lib := deps.lib
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
	chooser := &cdnctl.Chooser{Nodes: nodes, Index: idx, Choices: cdnctl.NewSQLiteChoices(db)}
	users := func(ctx context.Context, id int64) (string, error) {
		u, err := deps.accounts.User(ctx, id)
		return u.Username, err
	}
	planner, err := cdnctl.NewPlanner(cdnctl.PlannerParams{Tasks: tasks, Nodes: nodes, Manifests: repl.Manifests, Sources: repl,
		Viewers: cdnctl.ChooserViewers{Chooser: chooser, Users: users}, Catalog: api.PlanCatalog{Lib: lib},
		Schedules: api.PlanSchedules{Parties: deps.parties, Lib: lib}, Popularity: lib, Log: log.With("component", "cdn-planner")})
	if err != nil {
		return nil, err
	}
	planner.Start()
	return &cdnNetwork{heartbeats: hbs, chooser: chooser, planner: planner,
		repl: &api.CDNReplParams{Nodes: nodes, Owners: nodes, Replicator: repl}}, nil
}

// close stops the planner's loop.
func (n *cdnNetwork) close() {
	if n != nil {
		n.planner.Close()
	}
}

// params fills the API's CDN network parameters (none without a network).
func (n *cdnNetwork) params(p *api.Params) {
	if n == nil {
		return
	}
	p.CDNHeartbeats, p.CDNChooser, p.CDNRepl, p.Prefetcher = n.heartbeats, n.chooser, n.repl, n.planner
}

// parts are the network's background loops: marking silent nodes down.
func (n *cdnNetwork) parts() []lifecycle.Part {
	if n == nil {
		return nil
	}
	return []lifecycle.Part{func(ctx context.Context) error { n.heartbeats.Run(ctx); return nil }}
}

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/downloads"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/internal/obs"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
	"github.com/marquee-party/marquee/vod"
	"github.com/marquee-party/marquee/webapp"
)

// FirstLoginTTL is how long the first admin's login link stays valid.
const FirstLoginTTL = 24 * time.Hour

// app is the composed control plane.
type app struct {
	db        *sql.DB
	vod       *vod.Service
	vodJobs   *vod.Jobs
	downloads *downloads.Service
	cdnNet    *cdnNetwork
	scanner   *library.Scanner
	handler   http.Handler // the API, /api/hls/ and the web app (tests serve it on their own listener)
	parts     []lifecycle.Part
}

func (a *app) close() {
	a.cdnNet.close() // its planner reads the catalog and the vod cache
	if a.downloads != nil {
		a.downloads.Close()
	}
	if a.vodJobs != nil {
		a.vodJobs.Close() // before the service whose encoders the jobs use
	}
	if a.vod != nil {
		a.vod.Close()
	}
	if a.scanner != nil {
		_ = a.scanner.Close()
	}
	_ = a.db.Close()
}

// openStore opens the database under the data dir.
func openStore(ctx context.Context, dataDir string, log *slog.Logger) (*sql.DB, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	return store.Open(ctx, filepath.Join(dataDir, "marquee.db"), log)
}

// build wires the store, accounts, library, parties, API, web app and,
// when configured, the Discord bot. The first admin's login link goes to
// stdout, never into the logs.
func build(ctx context.Context, cfg apiConfig, log *slog.Logger, reg *prometheus.Registry, stdout io.Writer) (*app, error) {
	return buildWith(ctx, cfg, log, reg, stdout, discordTransport{})
}

// buildWith is build with the Discord bot's transport (tests: a fake).
func buildWith(ctx context.Context, cfg apiConfig, log *slog.Logger, reg *prometheus.Registry, stdout io.Writer, tr discordTransport) (*app, error) {
	db, err := openStore(ctx, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	a := &app{db: db}
	accounts := auth.New(db, auth.Config{SessionTTL: cfg.Session.TTL})
	admin, secret, created, err := accounts.Bootstrap(ctx, FirstLoginTTL)
	if err != nil {
		a.close()
		return nil, err
	}
	if created {
		log.Info("first start: created the admin account; its one-time login link is printed on stdout", "user", admin.Username)
		fmt.Fprintf(stdout, "\nMarquee: sign in as %q within %s with this one-time link:\n  %s\n\n",
			admin.Username, FirstLoginTTL, api.LoginURL(cfg.PublicURL, secret))
	}
	lib, err := newCatalog(ctx, cfg, db, log, reg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.scanner = library.NewScanner(library.ScannerParams{Service: lib, Workers: cfg.Library.Workers, Logger: log})
	if cfg.Library.ScanOnStart {
		scanAll(ctx, lib, a.scanner, log)
	}
	lk := party.LiveKitConfig{URL: cfg.SFU.URL, APIKey: cfg.SFU.APIKey, APISecret: cfg.SFU.APISecret}
	bridge := api.LibraryBridge{Lib: lib}
	parties, err := party.New(party.Params{DB: db, Worker: party.NewWorkerClient(cfg.Worker.URL, cfg.Worker.Secret, nil),
		CallbackURL: cfg.Worker.CallbackURL, Rooms: party.NewRoomService(lk), LiveKit: lk,
		Resolver: bridge, Catalog: bridge, HeartbeatInterval: cfg.Worker.Heartbeat,
		Log: log.With("component", "party"), Registerer: reg})
	if err != nil {
		a.close()
		return nil, err
	}
	// The signer serves the CDN and any link that must work without a
	// session (Discord embeds' posters); with no CDN URL those point here.
	var edge *api.CDNParams
	if cfg.CDN.URL != "" || cfg.CDN.URLSecret != "" {
		signer, err := cdn.NewSigner([]byte(cfg.CDN.URLSecret))
		if err != nil {
			a.close()
			return nil, fmt.Errorf("cdn.url_secret: %w", err)
		}
		edge = &api.CDNParams{URL: cfg.CDN.URL, Signer: signer, OriginToken: cfg.CDN.OriginToken}
	}
	var edgeSigner *cdn.Signer
	if edge != nil {
		edgeSigner = edge.Signer
	}
	nodes, err := newRegistry(cfg, db, log)
	if err != nil {
		a.close()
		return nil, err
	}
	vodSvc, hls, err := newVOD(cfg, lib, edgeSigner, nodes, log, reg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.vod = vodSvc
	if a.vodJobs, err = vod.NewJobs(vodSvc, reg, log.With("component", "vodjobs")); err != nil {
		a.close()
		return nil, err
	}
	dl, err := newDownloads(cfg, db, lib, vodSvc, edgeSigner, log, reg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.downloads = dl
	proxies, err := api.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	cdnNet, err := newCDNNetwork(db, nodes, cfg.PublicURL, cdnDeps{lib: lib, parties: parties, accounts: accounts}, vodSvc, hls, log, reg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.cdnNet = cdnNet
	ap := api.Params{Auth: accounts, TrustedProxies: proxies, Parties: parties, Library: lib, Scanner: a.scanner, CDN: edge, CDNNodes: cdnNodes(nodes), HLS: hls, Downloads: dl, VODJobs: a.vodJobs,
		LibraryRoots: cfg.Library.Roots, PublicURL: cfg.PublicURL, InviteSecret: []byte(cfg.Invite.Secret),
		WorkerSecret: cfg.Worker.Secret, SessionTTL: cfg.Session.TTL, MaxInviteTTL: cfg.Invite.MaxTTL,
		Log: log.With("component", "api"), Registerer: reg}
	cdnNet.params(&ap)
	srv, err := api.New(ap)
	if err != nil {
		a.close()
		return nil, err
	}
	ready := obs.NewReadiness()
	ready.Add("sqlite", func() error { return db.PingContext(context.Background()) })
	mux := http.NewServeMux()
	obs.Mount(mux, reg, ready)
	srv.Mount(mux)
	mux.Handle(vod.Prefix, hls)
	mux.Handle(downloads.FilesPrefix, dlFiles(dl, cfg, edgeSigner, nodes))
	mux.Handle("/", webapp.New(webapp.Params{Logger: log}))
	bot, err := newDiscord(cfg, discordDeps{parties: parties, lib: lib, accounts: accounts, posterURL: srv.ExternalPosterURL}, tr, log, reg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.handler = mux
	a.parts = append(append([]lifecycle.Part{lifecycle.ServeHTTP(log, "api", cfg.Listen, mux), parties.Run, pruneLoop(accounts, log)}, bot...), cdnNet.parts()...)
	return a, nil
}

// PruneEvery is how often expired sessions, login links and idle guest
// accounts are deleted.
const PruneEvery = time.Hour

// pruneLoop deletes expired credentials and idle guests, now and hourly.
func pruneLoop(accounts *auth.Store, log *slog.Logger) lifecycle.Part {
	return func(ctx context.Context) error {
		t := time.NewTicker(PruneEvery)
		defer t.Stop()
		for {
			if p, err := accounts.Prune(ctx); err != nil {
				log.Warn("prune accounts", "err", err)
			} else if p.Sessions+p.LoginLinks+p.Guests > 0 {
				log.Info("pruned accounts", "sessions", p.Sessions, "loginLinks", p.LoginLinks, "guests", p.Guests)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}

// scanAll registers the movies/, shows/ and music/ folders of each root as
// libraries and queues an incremental scan of every local library.
func scanAll(ctx context.Context, lib *library.Service, sc *library.Scanner, log *slog.Logger) {
	libs, err := lib.Libraries(ctx)
	if err != nil {
		log.Warn("list libraries", "err", err)
		return
	}
	for _, l := range libs {
		if l.Source != library.SourceLocal {
			continue
		}
		if err := sc.Scan(ctx, l.ID); err != nil && !errors.Is(err, library.ErrScanRunning) {
			log.Warn("scan on start", "library", l.Name, "err", err)
		}
	}
}

// registerRoots creates a library for every kind folder found in roots.
func registerRoots(ctx context.Context, lib *library.Service, roots []string, log *slog.Logger) {
	names := map[library.Kind]string{library.KindMovies: "Movies", library.KindShows: "Shows", library.KindMusic: "Music"}
	for _, root := range roots {
		for kind, name := range names {
			dir, err := filepath.Abs(filepath.Join(root, string(kind)))
			if err != nil {
				continue
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
			if _, err := lib.FindLibrary(ctx, library.SourceLocal, dir); err == nil {
				continue
			}
			if l, err := lib.CreateLibrary(ctx, name, dir, kind); err != nil {
				log.Warn("register library", "path", dir, "err", err)
			} else {
				log.Info("library registered", "id", l.ID, "name", l.Name, "path", dir)
			}
		}
	}
}

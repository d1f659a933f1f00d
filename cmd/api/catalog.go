package main

import (
	"context"
	"database/sql"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/library/jellyfin"
	"github.com/marquee-party/marquee/library/tmdb"
)

// newCatalog builds the library with its optional providers (TMDB) and
// remote sources (Jellyfin, imported at start-up), and registers the
// configured roots' folders as libraries.
func newCatalog(ctx context.Context, cfg apiConfig, db *sql.DB, log *slog.Logger, reg prometheus.Registerer) (*library.Service, error) {
	p := library.Params{DB: db, DataDir: cfg.DataDir, Logger: log, Registerer: reg}
	if cfg.TMDB.APIKey != "" {
		t, err := tmdb.New(tmdb.Config{APIKey: cfg.TMDB.APIKey})
		if err != nil {
			return nil, err
		}
		p.Providers = append(p.Providers, t)
	}
	var jf *jellyfin.Client
	if cfg.Jellyfin.URL != "" {
		var err error
		jf, err = jellyfin.New(jellyfin.Config{BaseURL: cfg.Jellyfin.URL, APIKey: cfg.Jellyfin.APIKey, UserID: cfg.Jellyfin.UserID})
		if err != nil {
			return nil, err
		}
		p.Remotes = map[library.Source]library.RemoteResolver{library.SourceJellyfin: jf}
	}
	lib, err := library.New(p)
	if err != nil {
		return nil, err
	}
	registerRoots(ctx, lib, cfg.Library.Roots, log)
	if jf != nil {
		// A Jellyfin server that is down must not stop the control plane.
		if imported, err := jf.ImportAll(ctx, lib); err != nil {
			log.Warn("jellyfin import failed", "url", cfg.Jellyfin.URL, "err", err)
		} else {
			log.Info("jellyfin imported", "views", len(imported))
		}
	}
	return lib, nil
}

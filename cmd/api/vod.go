package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/downloads"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
	"github.com/prometheus/client_golang/prometheus"
)

// newVOD starts the on-demand HLS service and its /api/hls/ handler. URLs
// are signed with the CDN signer when there is one (a CDN node can then
// check them); otherwise with a key derived from invite.secret. With
// cdn.url set, media playlists send viewers to the node for segments.
func newVOD(cfg apiConfig, lib *library.Service, edge *cdn.Signer, nodes *cdnctl.Registry, log *slog.Logger, reg prometheus.Registerer) (*vod.Service, *vod.Handler, error) {
	signer, err := urlSigner(cfg, edge)
	if err != nil {
		return nil, nil, err
	}
	svc, err := vod.New(cfg.vodConfig(), reg, log.With("component", "vod"))
	if err != nil {
		return nil, nil, fmt.Errorf("vod: %w", err)
	}
	resolve := vodResolver(lib)
	h := vod.NewHandler(svc, signer, resolve, nil)
	if edge != nil && cfg.CDN.URL != "" {
		h.UseCDN(cfg.CDN.URL) // segments from the node; playlists stay here
	}
	if allow := originAllowed(cfg, edge, nodes); allow != nil {
		h.AllowOrigin(allow)
	}
	return svc, h, nil
}

// newDownloads starts the offline downloads service. Links are signed
// like the HLS ones (the CDN signer when there is one, so nodes can check
// and cache them) and point at the CDN node when cdn.url is set.
func newDownloads(cfg apiConfig, db *sql.DB, lib *library.Service, media *vod.Service, edge *cdn.Signer, log *slog.Logger, reg prometheus.Registerer) (*downloads.Service, error) {
	signer, err := urlSigner(cfg, edge)
	if err != nil {
		return nil, err
	}
	return downloads.New(downloads.Params{DB: db, Catalog: lib, Media: media, Signer: signer, Dir: cfg.Downloads.Dir,
		TTL: cfg.Downloads.TTL, Workers: cfg.VOD.Workers, PublicBase: strings.TrimSuffix(cfg.CDN.URL, "/"),
		Log: log.With("component", "downloads"), Registerer: reg})
}

// dlFiles is the files handler; CDN nodes fetch misses with their token.
func dlFiles(dl *downloads.Service, cfg apiConfig, edge *cdn.Signer, nodes *cdnctl.Registry) http.Handler {
	h := dl.Handler()
	if allow := originAllowed(cfg, edge, nodes); allow != nil {
		h.AllowOrigin(allow)
	}
	return h
}

// urlSigner is the CDN signer, or one keyed from invite.secret.
func urlSigner(cfg apiConfig, edge *cdn.Signer) (*cdn.Signer, error) {
	if edge != nil {
		return edge, nil
	}
	m := hmac.New(sha256.New, []byte(cfg.Invite.Secret))
	m.Write([]byte("marquee-vod-url-key-v1"))
	return cdn.NewSigner(m.Sum(nil))
}

// vodResolver finds an item's file and the library root it must stay
// under; only local files play on demand.
func vodResolver(lib *library.Service) vod.Resolver {
	return func(ctx context.Context, id int64) (vod.Opener, string, error) {
		it, err := lib.Item(ctx, id)
		if err != nil {
			return nil, "", err
		}
		l, err := lib.Library(ctx, it.LibraryID)
		if err != nil {
			return nil, "", err
		}
		if l.Source != library.SourceLocal || it.Path == "" {
			return nil, "", fmt.Errorf("%w: item %d is not a local file", vod.ErrUnsupported, id)
		}
		root, err := library.NewRoot(l.Location)
		if err != nil {
			return nil, "", err
		}
		return root, it.Path, nil
	}
}

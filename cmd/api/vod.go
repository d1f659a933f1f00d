package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
	"github.com/prometheus/client_golang/prometheus"
)

// newVOD starts the on-demand HLS service and its /api/hls/ handler. URLs
// are signed with the CDN signer when there is one (a CDN node can then
// check them); otherwise with a key derived from invite.secret. With
// cdn.url set, media playlists send viewers to the node for segments.
func newVOD(cfg apiConfig, lib *library.Service, edge *cdn.Signer, log *slog.Logger, reg prometheus.Registerer) (*vod.Service, *vod.Handler, error) {
	signer := edge
	if signer == nil {
		m := hmac.New(sha256.New, []byte(cfg.Invite.Secret))
		m.Write([]byte("marquee-vod-url-key-v1"))
		s, err := cdn.NewSigner(m.Sum(nil))
		if err != nil {
			return nil, nil, err
		}
		signer = s
	}
	svc, err := vod.New(cfg.vodConfig(), reg, log.With("component", "vod"))
	if err != nil {
		return nil, nil, fmt.Errorf("vod: %w", err)
	}
	resolve := func(ctx context.Context, id int64) (vod.Opener, string, error) {
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
	h := vod.NewHandler(svc, signer, resolve, nil)
	if edge != nil && cfg.CDN.URL != "" {
		h.UseCDN(cfg.CDN.URL) // segments from the node; playlists stay here
	}
	if token := cfg.CDN.OriginToken; edge != nil && token != "" {
		h.AllowOrigin(func(r *http.Request) bool {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
		})
	}
	return svc, h, nil
}

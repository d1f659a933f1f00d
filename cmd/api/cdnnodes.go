package main

import (
	"crypto/subtle"
	"database/sql"
	"log/slog"
	"net/http"
	"strings"

	"github.com/marquee-party/marquee/api"
	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/cdn/cdnctl"
)

// newRegistry makes the CDN node registry when cdn.node_psk is set (nil
// otherwise), publishing names by DNS update when cdn.dns_server is set.
func newRegistry(cfg apiConfig, db *sql.DB, log *slog.Logger) (*cdnctl.Registry, error) {
	if cfg.CDN.NodePSK == "" {
		return nil, nil
	}
	p := cdnctl.RegistryParams{DB: db, PSK: []byte(cfg.CDN.NodePSK), URLSecret: []byte(cfg.CDN.URLSecret),
		Logger: log.With("component", "cdn-registry")}
	if cfg.CDN.DNSServer != "" {
		up, err := cdnctl.NewDNSUpdater(cfg.CDN.dnsConfig())
		if err != nil {
			return nil, err
		}
		p.DNS = up
	}
	return cdnctl.NewRegistry(p), nil
}

// cdnNodes keeps a nil registry a nil interface.
func cdnNodes(r *cdnctl.Registry) api.CDNRegistry {
	if r == nil {
		return nil
	}
	return r
}

// originAllowed lets CDN nodes fetch misses with the shared
// cdn.origin_token or, for registered nodes, their own credential (a
// revoked one is refused at once). It is nil when neither is configured.
func originAllowed(cfg apiConfig, edge *cdn.Signer, nodes *cdnctl.Registry) func(*http.Request) bool {
	token := cfg.CDN.OriginToken
	if edge == nil || (token == "" && nodes == nil) {
		return nil
	}
	return func(r *http.Request) bool {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || got == "" {
			return false
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			return true
		}
		if nodes == nil {
			return false
		}
		_, err := nodes.Authenticate(r.Context(), got)
		return err == nil
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/marquee-party/marquee/cdn"
)

// registerNode registers the node with the API (cdn.psk set): on success
// the node fetches misses with its own credential and verifies URLs with
// its own URL key, and still those signed with cdn.url_secret if set. It
// retries an unreachable API until a signal; a refusal or a revocation
// ends the start with the reason.
func registerNode(cfg *cdnConfig, p *cdn.Params, log *slog.Logger) error {
	c := cfg.CDN
	if c.Name == "" {
		h, _ := os.Hostname()
		c.Name = cdn.HostLabel(h)
	}
	if c.PublicURL == "" {
		_, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return fmt.Errorf("cdn.public_url: set it (listen %q has no port to derive it from)", cfg.Listen)
		}
		c.PublicURL = "http://" + c.Name + ":" + port
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rp := cdn.RegisterParams{Origin: p.Origin, PSK: []byte(c.PSK), Name: c.Name, Mode: c.Mode, Owner: c.Owner,
		PublicURL: c.PublicURL, DataDir: c.DataDir, Logger: log}
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		reg, err := cdn.Register(ctx, rp)
		if err == nil {
			signer, err := cdn.NewSigner([]byte(reg.URLKey))
			if err != nil {
				return err
			}
			if p.Signer != nil {
				signer = signer.WithFallback(p.Signer)
			}
			p.Signer, p.OriginToken = signer, reg.Credential
			p.NodeID, p.Credential = reg.NodeID, reg.Credential
			log.Info("cdn node registered (new, or reused from cdn.data_dir)", "node", reg.NodeID, "name", c.Name, "dns_name", reg.DNSName, "public_url", c.PublicURL)
			return nil
		}
		if errors.Is(err, cdn.ErrRefused) || errors.Is(err, cdn.ErrRevoked) {
			return err
		}
		log.Warn("cdn registration failed; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

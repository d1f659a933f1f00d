package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/api/discordbridge"
	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/discord/sfusource"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/party"
)

// discordTransport points the bot somewhere other than discord.com; tests
// pass discordtest's client and TLS config. The zero value is Discord.
type discordTransport struct {
	HTTPClient *http.Client
	TLSConfig  *tls.Config
}

// discordDeps are the control-plane parts the bot drives.
type discordDeps struct {
	parties  *party.Service
	lib      *library.Service
	accounts *auth.Store
	// posterURL links a poster without a session, for embeds.
	posterURL func(ctx context.Context, itemID int64) (string, error)
}

// newDiscord builds the Discord bot and its bridge to the party service
// when discord.token is set, and returns their lifecycle parts (none when
// the bot is disabled). The bot runs inside the API process so that its
// party calls are in-process; the voice publisher subscribes to the
// party's SFU room with the API's own SFU keys.
func newDiscord(cfg apiConfig, d discordDeps, tr discordTransport, log *slog.Logger, reg prometheus.Registerer) ([]lifecycle.Part, error) {
	if !cfg.Discord.Enabled() {
		return nil, nil
	}
	bridge, err := discordbridge.New(discordbridge.Params{Parties: d.parties, Library: d.lib, Accounts: d.accounts,
		PublicURL: cfg.PublicURL, InviteSecret: []byte(cfg.Invite.Secret), InviteTTL: min(cfg.Invite.MaxTTL, discordInviteTTL),
		PosterURL: d.posterURL, Logger: log, Registerer: reg})
	if err != nil {
		return nil, err
	}
	p := discord.Params{Config: cfg.Discord, Parties: bridge, Info: bridge, Problems: bridge,
		Logger: log, Registry: reg, HTTPClient: tr.HTTPClient, TLSConfig: tr.TLSConfig}
	if cfg.Discord.Voice.Enabled {
		src, err := sfusource.New(sfusource.Config{URL: cfg.SFU.URL, APIKey: cfg.SFU.APIKey, APISecret: cfg.SFU.APISecret}, log)
		if err != nil {
			return nil, err
		}
		p.Audio = src
	}
	bot, err := discord.New(p)
	if err != nil {
		return nil, err
	}
	log.Info("discord bot enabled", "application", cfg.Discord.ApplicationID, "voice", cfg.Discord.Voice.Enabled,
		"controlGuilds", len(cfg.Discord.ControlRoles))
	return []lifecycle.Part{bot.Run, func(ctx context.Context) error { return bridge.Run(ctx, bot) }}, nil
}

// discordInviteTTL is the lifetime of the listener links in Discord
// embeds; they are re-minted when half of it has passed.
const discordInviteTTL = 24 * time.Hour

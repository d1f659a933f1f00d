package discord

import (
	"fmt"
	"strings"
	"time"

	"github.com/marquee-party/marquee/discord/voice"
)

// Config is the discord part of cmd/api's configuration. An empty Token
// disables the bot.
type Config struct {
	Token         string `yaml:"token" usage:"Discord bot token; empty disables the bot (never logged)"`
	ApplicationID string `yaml:"application_id" usage:"Discord application id (snowflake)"`
	// ControlRoles maps a guild id to the role ids, separated by |, whose
	// members may control parties. In guilds not listed, members with
	// Administrator or Manage Server may.
	ControlRoles map[string]string `yaml:"control_roles" usage:"guild id = role ids (sep. by |) allowed to control parties, e.g. 123=456|789"`
	// EmbedInterval is the minimum time between edits of a party's embed.
	EmbedInterval time.Duration `yaml:"embed_interval" usage:"minimum time between now-playing embed edits"`
	// RefreshInterval is how often the bot polls now-playing for progress.
	RefreshInterval time.Duration `yaml:"refresh_interval" usage:"how often the now-playing embed is refreshed"`
	// GatewayStallTimeout replaces the gateway session when a reconnect has
	// not completed for this long.
	GatewayStallTimeout time.Duration `yaml:"gateway_stall_timeout" usage:"start a new gateway session when reconnecting takes longer than this"`
	Voice               VoiceConfig   `yaml:"voice"`
}

// VoiceConfig configures the voice publisher.
type VoiceConfig struct {
	Enabled bool `yaml:"enabled" usage:"play party audio in the Discord channel"`
	// Modes lists transport encryption modes by preference.
	Modes []string `yaml:"modes" usage:"voice encryption modes by preference"`
}

// DefaultConfig returns the defaults cmd/api starts from.
func DefaultConfig() Config {
	return Config{
		EmbedInterval:       5 * time.Second,
		RefreshInterval:     15 * time.Second,
		GatewayStallTimeout: 2 * time.Minute,
		Voice:               VoiceConfig{Enabled: true, Modes: []string{voice.ModeAES256GCM, voice.ModeXChaCha20Poly1305}},
	}
}

// Enabled reports whether a bot token is configured.
func (c Config) Enabled() bool { return c.Token != "" }

// Validate checks the config; a disabled bot is always valid.
func (c Config) Validate() error {
	if !c.Enabled() {
		return nil
	}
	if !isSnowflake(c.ApplicationID) {
		return fmt.Errorf("%w: discord.application_id must be the numeric application id", ErrConfig)
	}
	for g, roles := range c.ControlRoles {
		if !isSnowflake(g) {
			return fmt.Errorf("%w: discord.control_roles: %q is not a guild id", ErrConfig, g)
		}
		for _, r := range strings.Split(roles, "|") {
			if !isSnowflake(r) {
				return fmt.Errorf("%w: discord.control_roles[%s]: %q is not a role id", ErrConfig, g, r)
			}
		}
	}
	if c.EmbedInterval < 0 || c.RefreshInterval < 0 || c.GatewayStallTimeout < 0 {
		return fmt.Errorf("%w: discord.embed_interval, refresh_interval and gateway_stall_timeout must not be negative", ErrConfig)
	}
	for _, m := range c.Voice.Modes {
		if m != voice.ModeAES256GCM && m != voice.ModeXChaCha20Poly1305 {
			return fmt.Errorf("%w: discord.voice.modes: unknown mode %q", ErrConfig, m)
		}
	}
	return nil
}

// roles returns the control roles of a guild, or nil when none are listed.
func (c Config) roles(guildID string) []string {
	v, ok := c.ControlRoles[guildID]
	if !ok {
		return nil
	}
	return strings.Split(v, "|")
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

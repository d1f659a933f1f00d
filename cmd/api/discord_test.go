package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/discord/discordtest"
	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/lifecycle"
	"github.com/marquee-party/marquee/internal/obs"
)

func TestDiscordConfig(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		args   []string
		errKey string // "" means valid
		check  func(*testing.T, apiConfig)
	}{
		{name: "off by default", check: func(t *testing.T, c apiConfig) {
			if c.Discord.Enabled() || !c.Discord.Voice.Enabled || c.Discord.EmbedInterval != 5*time.Second {
				t.Errorf("discord = %+v", c.Discord)
			}
		}},
		{name: "env and flags",
			env:  []string{"MARQUEE_DISCORD_TOKEN=tok-123", "MARQUEE_DISCORD_APPLICATION_ID=100000000000000001"},
			args: []string{"--discord.control_roles", "200000000000000001=700000000000000001|700000000000000002", "--discord.voice.enabled=false"},
			check: func(t *testing.T, c apiConfig) {
				d := c.Discord
				if !d.Enabled() || d.ApplicationID != "100000000000000001" || d.Voice.Enabled ||
					d.ControlRoles["200000000000000001"] != "700000000000000001|700000000000000002" {
					t.Errorf("discord = %+v", d)
				}
			}},
		{name: "token without application id", env: []string{"MARQUEE_DISCORD_TOKEN=tok-123"}, errKey: "discord.application_id"},
		{name: "bad control roles", env: []string{"MARQUEE_DISCORD_TOKEN=tok-123", "MARQUEE_DISCORD_APPLICATION_ID=1"},
			args: []string{"--discord.control_roles", "guild=role"}, errKey: "discord.control_roles"},
		{name: "bad voice mode", env: []string{"MARQUEE_DISCORD_TOKEN=tok-123", "MARQUEE_DISCORD_APPLICATION_ID=1"},
			args: []string{"--discord.voice.modes", "plain"}, errKey: "discord.voice.modes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			var out bytes.Buffer
			_, err := config.Load(&cfg, config.Options{Name: "api", Dev: applyDev, Output: &out, Environ: tt.env},
				append([]string{"--dev"}, tt.args...))
			if tt.errKey != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errKey) {
					t.Fatalf("err = %v, want one naming %s", err, tt.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

// syncBuffer is a log sink shared by the parts' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBotRunsInsideAPI builds the API as main does with a bot token and
// checks the bot is one of its parts: it connects (to the fake Discord),
// registers its commands and answers from the API's party service. The
// token never reaches the logs.
func TestBotRunsInsideAPI(t *testing.T) {
	fake, err := discordtest.New(discordtest.Options{Token: "secret-bot-token-42"})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	o := fake.Options()
	cfg := defaultConfig()
	applyDev(&cfg)
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Library.Roots, cfg.Library.ScanOnStart = nil, false
	cfg.Discord.Token, cfg.Discord.ApplicationID = o.Token, o.ApplicationID
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var stdout bytes.Buffer
	a, err := buildWith(context.Background(), cfg, log, obs.NewRegistry(), &stdout,
		discordTransport{HTTPClient: fake.HTTPClient(), TLSConfig: fake.TLSConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lifecycle.Run(ctx, log, func(int) {}, a.parts...) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("lifecycle: %v", err)
		}
		if strings.Contains(logs.String(), o.Token) {
			t.Errorf("the bot token is in the logs")
		}
	}()
	if err := fake.Wait(20*time.Second, func(s *discordtest.State) bool { return len(s.Commands) == 8 }); err != nil {
		t.Fatalf("commands not registered: %v", err)
	}
	id, err := fake.Interact(discordtest.InteractionCommand, discordtest.Member{UserID: "500000000000000001"}, "nowplaying")
	if err != nil {
		t.Fatal(err)
	}
	err = fake.Wait(20*time.Second, func(s *discordtest.State) bool {
		r := s.Responses[id]
		return len(r) > 0 && strings.Contains(r[len(r)-1].Content, "no party running")
	})
	if err != nil {
		t.Fatalf("/nowplaying not answered: %+v", fake.Snapshot().Responses[id])
	}
	if !strings.Contains(logs.String(), "discord bot enabled") {
		t.Errorf("logs lack the start-up line")
	}
}

func TestBotOffWithoutToken(t *testing.T) {
	cfg := defaultConfig()
	applyDev(&cfg)
	cfg.DataDir = t.TempDir()
	cfg.Library.Roots, cfg.Library.ScanOnStart = nil, false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := build(context.Background(), cfg, slog.New(slog.DiscardHandler), obs.NewRegistry(), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	// --dev turns CDN node registration on: its heartbeat sweep is a part too.
	if len(a.parts) != 4 {
		t.Errorf("%d parts without a bot token, want 4 (http, parties, prune, CDN node sweep)", len(a.parts))
	}
}

package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/obs"
)

func TestConfigValidate(t *testing.T) {
	dev := func() apiConfig {
		c := defaultConfig()
		applyDev(&c)
		return c
	}
	tests := []struct {
		name   string
		mutate func(*apiConfig)
		errKey string // "" means valid
	}{
		{"dev defaults", func(*apiConfig) {}, ""},
		{"no secrets without dev", func(c *apiConfig) { *c = defaultConfig() }, "sfu.api_key"},
		{"short worker secret", func(c *apiConfig) { c.Worker.Secret = "short" }, "worker.secret"},
		{"short invite secret", func(c *apiConfig) { c.Invite.Secret = "short" }, "invite.secret"},
		{"bad listen", func(c *apiConfig) { c.Listen = "8080" }, "listen"},
		{"bad public url", func(c *apiConfig) { c.PublicURL = "ftp://x" }, "public_url"},
		{"jellyfin half set", func(c *apiConfig) { c.Jellyfin.URL = "http://jf" }, "jellyfin.url"},
		{"zero heartbeat", func(c *apiConfig) { c.Worker.Heartbeat = 0 }, "worker.heartbeat"},
		{"cdn on with dev keys", func(c *apiConfig) { c.CDN.URL = "http://127.0.0.1:8081" }, ""},
		{"cdn bad url", func(c *apiConfig) { c.CDN.URL = "127.0.0.1:8081" }, "cdn.url"},
		{"cdn short secret", func(c *apiConfig) { c.CDN.URL = "http://cdn"; c.CDN.URLSecret = "x" }, "cdn.url_secret"},
		{"vod segment too long", func(c *apiConfig) { c.VOD.SegmentSeconds = 60 }, "vod.segment_seconds"},
		{"vod no workers", func(c *apiConfig) { c.VOD.Workers = 0 }, "vod.workers"},
		{"vod tiny cache", func(c *apiConfig) { c.VOD.MaxBytes = 1000 }, "vod.max_bytes"},
		{"downloads ttl too short", func(c *apiConfig) { c.Downloads.TTL = time.Minute }, "downloads.ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dev()
			tt.mutate(&c)
			err := c.Validate()
			if tt.errKey == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.PublicURL != "http://127.0.0.1:8080" || c.Worker.CallbackURL != "http://127.0.0.1:8080/internal/worker/events" {
					t.Fatalf("derived urls: %q %q", c.PublicURL, c.Worker.CallbackURL)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.errKey) {
				t.Fatalf("err = %v, want one naming %s", err, tt.errKey)
			}
		})
	}
}

func TestLoadFlagsAndHelp(t *testing.T) {
	var out bytes.Buffer
	cfg := defaultConfig()
	_, err := config.Load(&cfg, config.Options{Name: "api", Dev: applyDev, Output: &out, Environ: []string{}},
		[]string{"--dev", "--listen", "127.0.0.1:9999", "--library.roots", "a,b"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "http://127.0.0.1:9999" || len(cfg.Library.Roots) != 2 || cfg.Invite.Secret != devInviteSecret {
		t.Fatalf("cfg = %+v", cfg)
	}
	// downloads.*: defaults, then environment, then flags.
	cfg = defaultConfig()
	_, err = config.Load(&cfg, config.Options{Name: "api", Dev: applyDev, Output: &out, Environ: []string{"MARQUEE_DOWNLOADS_TTL=48h"}},
		[]string{"--dev", "--data_dir", "/srv/m"})
	if err != nil || cfg.Downloads.TTL != 48*time.Hour || cfg.Downloads.Dir != "/srv/m/downloads" {
		t.Fatalf("downloads = %+v, %v", cfg.Downloads, err)
	}
	if _, err := config.Load(&cfg, config.Options{Name: "api", Dev: applyDev, Output: &out, Environ: []string{}},
		[]string{"--dev", "--downloads.dir", "/d", "--downloads.ttl", "2h"}); err != nil || cfg.Downloads.Dir != "/d" || cfg.Downloads.TTL != 2*time.Hour {
		t.Fatalf("downloads flags = %+v, %v", cfg.Downloads, err)
	}
	cfg = defaultConfig()
	if cfg.Downloads.TTL != 720*time.Hour {
		t.Errorf("default downloads.ttl = %s", cfg.Downloads.TTL)
	}
	if _, err := config.Load(&cfg, config.Options{Name: "api", Output: &out, Environ: []string{}}, []string{"--help"}); err != config.ErrHelp {
		t.Fatalf("--help: %v", err)
	}
}

// TestFirstStartLinkOnStdoutOnly checks the first admin's login secret is
// printed for the operator and never reaches the structured log.
func TestFirstStartLinkOnStdoutOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "library", "movies"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	applyDev(&cfg)
	cfg.DataDir = dir
	cfg.Library.Roots = []string{filepath.Join(dir, "library")}
	cfg.Library.ScanOnStart = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs, stdout bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	a, err := build(context.Background(), cfg, log, obs.NewRegistry(), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	a.close()
	if !strings.Contains(stdout.String(), "http://127.0.0.1:8080/login/mql_") {
		t.Fatalf("stdout = %q", stdout.String())
	}
	if strings.Contains(logs.String(), "mql_") {
		t.Fatalf("login secret in the logs: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "library registered") {
		t.Fatalf("movies folder not registered: %s", logs.String())
	}
	// A second start creates nothing and prints nothing.
	stdout.Reset()
	a, err = build(context.Background(), cfg, log, obs.NewRegistry(), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	a.close()
	if stdout.Len() != 0 {
		t.Fatalf("second start printed %q", stdout.String())
	}
}

// TestLoginLinkDocumentedForm runs `api login-link --user admin` as the
// README writes it, from the folder run.sh uses (./data, no other flags):
// it needs only the database, not the server's SFU or worker secrets.
func TestLoginLinkDocumentedForm(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if code := runLoginLink([]string{"--user", "admin"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no database") {
		t.Fatalf("before the first start: exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Fatal("login-link created a data_dir")
	}
	stderr.Reset()
	cfg := defaultConfig()
	applyDev(&cfg)
	cfg.Library.Roots, cfg.Library.ScanOnStart = nil, false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	a, err := build(context.Background(), cfg, slog.New(slog.DiscardHandler), obs.NewRegistry(), &first)
	if err != nil {
		t.Fatal(err)
	}
	a.close()

	if code := runLoginLink([]string{"--user", "admin"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	link := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(link, "http://127.0.0.1:8080/login/mql_") || strings.Contains(first.String(), link) {
		t.Fatalf("stdout = %q, want a new link under http://127.0.0.1:8080/login/", stdout.String())
	}
	if strings.Contains(stderr.String(), "mql_") {
		t.Fatalf("the secret reached stderr: %s", stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	if code := runLoginLink([]string{"--user", "nobody"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), `no user "nobody"`) {
		t.Fatalf("unknown user: exit %d, stderr %q", code, stderr.String())
	}
}

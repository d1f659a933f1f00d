package cdn

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	dev := DefaultConfig()
	dev.ApplyDev()
	for _, tt := range []struct {
		name    string
		edit    func(*Config)
		wantKey string
	}{
		{"dev is valid", func(*Config) {}, ""},
		{"no origin", func(c *Config) { c.Origin = "" }, "origin:"},
		{"relative origin", func(c *Config) { c.Origin = "api:8080" }, "origin:"},
		{"origin with query", func(c *Config) { c.Origin = "http://api:8080/?x=1" }, "origin:"},
		{"no token without psk", func(c *Config) { c.OriginToken, c.PSK = "", "" }, "origin_token:"},
		{"no secret without psk", func(c *Config) { c.URLSecret, c.PSK = "", "" }, "url_secret:"},
		{"psk alone registers", func(c *Config) { c.OriginToken, c.URLSecret = "", "" }, ""},
		{"short psk", func(c *Config) { c.PSK = "short" }, "psk:"},
		{"bad mode", func(c *Config) { c.Mode = "public" }, "mode:"},
		{"local without owner", func(c *Config) { c.Mode = "local" }, "owner:"},
		{"shared with owner", func(c *Config) { c.Owner = "mia" }, "owner:"},
		{"bad name", func(c *Config) { c.Name = "Edge_1" }, "name:"},
		{"bad public url", func(c *Config) { c.PublicURL = "node:8081" }, "public_url:"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data_dir:"},
		{"short secret", func(c *Config) { c.URLSecret = "short" }, "url_secret:"},
		{"no dir", func(c *Config) { c.CacheDir = "" }, "cache_dir:"},
		{"zero budget", func(c *Config) { c.MaxBytes = 0 }, "max_bytes:"},
		{"bad prefix", func(c *Config) { c.Prefixes = []string{"/api/../x/"} }, "prefixes:"},
		{"prefix without slash", func(c *Config) { c.Prefixes = []string{"/api/hls"} }, "prefixes:"},
		{"no idle timeout", func(c *Config) { c.OriginIdleTimeout = 0 }, "origin_idle_timeout:"},
		{"no ranges", func(c *Config) { c.MaxRanges = 0 }, "max_ranges:"},
		{"heartbeat too fast", func(c *Config) { c.Heartbeat = 100 * time.Millisecond }, "heartbeat:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dev
			c.Prefixes = append([]string(nil), dev.Prefixes...)
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != (tt.wantKey == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.wantKey)) {
				t.Fatalf("Validate = %v, want an error naming %q", err, tt.wantKey)
			}
			if err == nil {
				if _, err := c.Params(); err != nil {
					t.Fatalf("Params = %v", err)
				}
			}
		})
	}
}

func TestHostLabel(t *testing.T) {
	for in, want := range map[string]string{"Edge_1.example.org": "edge-1", "-x-": "x", "": "node", "paris": "paris"} {
		if got := HostLabel(in); got != want {
			t.Errorf("HostLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

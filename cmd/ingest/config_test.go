package main

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	dev := func() ingestConfig {
		c := defaultConfig()
		applyDev(&c)
		return c
	}
	if err := dev().Validate(); err != nil {
		t.Fatalf("dev config: %v", err)
	}
	if err := defaultConfig().Validate(); err == nil {
		t.Fatal("the production default (no secrets, no roots) must not validate")
	}
	tests := []struct {
		name   string
		mutate func(*ingestConfig)
		key    string
	}{
		{"no listen", func(c *ingestConfig) { c.Listen = "" }, "listen"},
		{"short secret", func(c *ingestConfig) { c.WorkerSecret = "short" }, "worker_secret"},
		{"no sfu key", func(c *ingestConfig) { c.SFU.APIKey = "" }, "sfu.api_key"},
		{"no roots", func(c *ingestConfig) { c.Media.Roots = nil }, "media.roots"},
		{"bad codec", func(c *ingestConfig) { c.Media.VideoCodec = "av1" }, "video codec"},
		{"tiny bitrate", func(c *ingestConfig) { c.Media.BitrateLow = 5 }, "media"},
		{"bad log level", func(c *ingestConfig) { c.Log.Level = "loud" }, "level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dev()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("err = %v, want it to name %q", err, tt.key)
			}
		})
	}
	ic := dev().ingest()
	if ic.Secret != "devsecret" || ic.Media.Layers[2].Bitrate != 2_000_000 || len(ic.MediaRoots) != 1 {
		t.Fatalf("ingest config %+v", ic)
	}
}

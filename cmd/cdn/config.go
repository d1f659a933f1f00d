package main

import (
	"errors"
	"fmt"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/obs"
)

// cdnConfig is cmd/cdn's configuration; see --help for every key.
type cdnConfig struct {
	// Listen serves viewers and the ops endpoints.
	Listen string `yaml:"listen" usage:"HTTP address for viewers and /healthz, /readyz, /metrics"`
	// CDN is the cdn package's part.
	CDN cdn.Config `yaml:"cdn"`
	// Log configures logging.
	Log obs.LogConfig `yaml:"log"`
}

// Validate names the failing key.
func (c cdnConfig) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: an address is required")
	}
	if err := c.CDN.Validate(); err != nil {
		return fmt.Errorf("cdn.%w", err)
	}
	return c.Log.Validate()
}

// applyDev listens on loopback in front of a --dev API with the dev credentials.
func applyDev(c any) {
	cfg := c.(*cdnConfig)
	cfg.Listen = "127.0.0.1:8081"
	cfg.CDN.ApplyDev()
	cfg.Log.Level = "debug"
}

func defaultConfig() cdnConfig {
	return cdnConfig{Listen: ":8081", CDN: cdn.DefaultConfig(), Log: obs.DefaultLogConfig()}
}

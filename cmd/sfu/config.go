package main

import (
	"fmt"

	"github.com/marquee-party/marquee/internal/obs"
	"github.com/marquee-party/marquee/rooms"
)

// sfuConfig is cmd/sfu's configuration; see --help for every key.
type sfuConfig struct {
	// Listen is the HTTP address for signalling, the RoomService and ops.
	Listen string `yaml:"listen" usage:"HTTP address for /rtc, /rtc/v1, /twirp RoomService, /healthz, /readyz, /metrics"`
	// SFU is the rooms package's part.
	SFU rooms.Config `yaml:"sfu"`
	// Log configures logging.
	Log obs.LogConfig `yaml:"log"`
}

func defaultConfig() sfuConfig {
	return sfuConfig{Listen: ":7880", SFU: rooms.DefaultConfig(), Log: obs.DefaultLogConfig()}
}

// applyDev binds to loopback with LiveKit's devkey/secret pair.
func applyDev(c any) {
	cfg := c.(*sfuConfig)
	cfg.Listen = "127.0.0.1:7880"
	cfg.SFU.ApplyDev()
	cfg.Log.Level = "debug"
}

// Validate checks every part and names the failing key.
func (c sfuConfig) Validate() error {
	if c.Listen == "" {
		return fmt.Errorf("listen: an address is required")
	}
	if err := c.SFU.Validate(); err != nil {
		return fmt.Errorf("sfu.%w", err)
	}
	return c.Log.Validate()
}

package main

import (
	"fmt"
	"time"

	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/internal/obs"
	"github.com/marquee-party/marquee/media"
)

// ingestConfig is cmd/ingest's configuration; see --help for every key.
type ingestConfig struct {
	Listen       string        `yaml:"listen" usage:"HTTP address of the worker API and /healthz /readyz /metrics"`
	WorkerSecret string        `yaml:"worker_secret" usage:"bearer secret of the worker API and of event callbacks (dev: devsecret)"`
	SFU          sfuConfig     `yaml:"sfu"`
	Media        mediaConfig   `yaml:"media"`
	Log          obs.LogConfig `yaml:"log"`
}

type sfuConfig struct {
	URL       string `yaml:"url" usage:"SFU signalling URL (LiveKit protocol)"`
	APIKey    string `yaml:"api_key" usage:"SFU API key the ingest signs its join tokens with"`
	APISecret string `yaml:"api_secret" usage:"SFU API secret for api_key"`
}

type mediaConfig struct {
	Roots         []string      `yaml:"roots" usage:"directories local media paths must lie in (comma list)"`
	VideoCodec    string        `yaml:"video_codec" usage:"video codec sent to viewers: vp8 or h264"`
	BitrateLow    int           `yaml:"bitrate_low" usage:"bit/s of the 180p simulcast layer (q)"`
	BitrateMedium int           `yaml:"bitrate_medium" usage:"bit/s of the 360p simulcast layer (h)"`
	BitrateHigh   int           `yaml:"bitrate_high" usage:"bit/s of the 720p simulcast layer (f)"`
	AudioBitrate  int           `yaml:"audio_bitrate" usage:"Opus bit/s"`
	AudioLanguage string        `yaml:"audio_language" usage:"preferred audio language (ISO 639-2, e.g. eng); else the first audio stream"`
	VP8CPUUsed    int           `yaml:"vp8_cpu_used" usage:"libvpx realtime speed, 4-16 (higher: less CPU, lower quality)"`
	IOTimeout     time.Duration `yaml:"io_timeout" usage:"timeout of opening and of each read of an http(s) source"`
}

func defaultConfig() ingestConfig {
	m := media.DefaultConfig()
	l := media.DefaultLayers()
	return ingestConfig{
		Listen: ":8090",
		SFU:    sfuConfig{URL: "ws://127.0.0.1:7880"},
		Media: mediaConfig{VideoCodec: m.VideoCodec, BitrateLow: l[0].Bitrate, BitrateMedium: l[1].Bitrate,
			BitrateHigh: l[2].Bitrate, AudioBitrate: m.AudioBitrate, VP8CPUUsed: m.CPUUsed, IOTimeout: m.IOTimeout},
		Log: obs.DefaultLogConfig(),
	}
}

// applyDev binds to loopback with the well-known development secrets.
func applyDev(c any) {
	cfg := c.(*ingestConfig)
	cfg.Listen = "127.0.0.1:8090"
	cfg.WorkerSecret = "devsecret"
	cfg.SFU.APIKey, cfg.SFU.APISecret = "devkey", "secret"
	if len(cfg.Media.Roots) == 0 {
		cfg.Media.Roots = []string{"."} // the working directory
	}
}

// ingest returns the ingest package's part.
func (c ingestConfig) ingest() ingest.Config {
	ic := ingest.DefaultConfig()
	ic.Secret = c.WorkerSecret
	ic.MediaRoots = c.Media.Roots
	m := &ic.Media
	m.VideoCodec, m.AudioBitrate, m.PreferredLanguage = c.Media.VideoCodec, c.Media.AudioBitrate, c.Media.AudioLanguage
	m.CPUUsed, m.IOTimeout = c.Media.VP8CPUUsed, c.Media.IOTimeout
	m.Layers[0].Bitrate, m.Layers[1].Bitrate, m.Layers[2].Bitrate = c.Media.BitrateLow, c.Media.BitrateMedium, c.Media.BitrateHigh
	return ic
}

// Validate names the failing key.
func (c ingestConfig) Validate() error {
	switch {
	case c.Listen == "":
		return fmt.Errorf("listen: an address is required")
	case len(c.WorkerSecret) < 8:
		return fmt.Errorf("worker_secret: at least 8 characters are required (or use --dev)")
	case c.SFU.URL == "" || c.SFU.APIKey == "" || c.SFU.APISecret == "":
		return fmt.Errorf("sfu.url, sfu.api_key and sfu.api_secret are required (or use --dev)")
	case len(c.Media.Roots) == 0:
		return fmt.Errorf("media.roots: at least one library directory is required")
	}
	if err := c.ingest().Media.Validate(); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	return c.Log.Validate()
}

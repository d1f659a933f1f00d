package media

import (
	"fmt"
	"time"
)

// Video codecs a Player can encode.
const (
	CodecVP8  = "vp8"
	CodecH264 = "h264"
)

// LayerSpec describes one wanted simulcast layer before the source is known.
type LayerSpec struct {
	// RID is the simulcast restriction identifier (RFC 8851), "q", "h" or "f".
	RID string `yaml:"rid"`
	// Height in pixels; the width follows the source's display aspect.
	Height int `yaml:"height"`
	// Bitrate in bit/s.
	Bitrate int `yaml:"bitrate"`
}

// DefaultLayers are the simulcast layers of a 720p-or-larger source.
func DefaultLayers() []LayerSpec {
	return []LayerSpec{
		{RID: "q", Height: 180, Bitrate: 150_000},
		{RID: "h", Height: 360, Bitrate: 600_000},
		{RID: "f", Height: 720, Bitrate: 2_000_000},
	}
}

// Config tunes the pipeline; the zero value is not valid, start from
// DefaultConfig.
type Config struct {
	// VideoCodec is CodecVP8 or CodecH264.
	VideoCodec string
	// Layers lists the simulcast layers from lowest to highest.
	Layers []LayerSpec
	// AudioBitrate of the Opus encoder in bit/s.
	AudioBitrate int
	// PreferredLanguage picks the audio stream whose language tag matches
	// (ISO 639-2, e.g. "eng"); else the first audio stream.
	PreferredLanguage string
	// CPUUsed is libvpx's speed setting (0-16 in realtime; higher is faster).
	CPUUsed int
	// KeyframeInterval forces a keyframe at least this often.
	KeyframeInterval time.Duration
	// IOTimeout bounds every network read and the open of a URL.
	IOTimeout time.Duration
	// Lookahead is how far ahead of the play position frames are encoded.
	Lookahead time.Duration
	// Unpaced sends frames as fast as they are encoded (benchmarks, tests).
	Unpaced bool
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		VideoCodec:       CodecVP8,
		Layers:           DefaultLayers(),
		AudioBitrate:     96_000,
		CPUUsed:          8,
		KeyframeInterval: 5 * time.Second,
		IOTimeout:        10 * time.Second,
		Lookahead:        80 * time.Millisecond,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch c.VideoCodec {
	case CodecVP8, CodecH264:
	default:
		return fmt.Errorf("media: video codec %q: want %s or %s", c.VideoCodec, CodecVP8, CodecH264)
	}
	if len(c.Layers) == 0 || len(c.Layers) > 3 {
		return fmt.Errorf("media: %d layers: want 1 to 3", len(c.Layers))
	}
	for i, l := range c.Layers {
		if l.Height < 16 || l.Bitrate < 10_000 {
			return fmt.Errorf("media: layer %d: height %d, bitrate %d too small", i, l.Height, l.Bitrate)
		}
		if i > 0 && l.Height <= c.Layers[i-1].Height {
			return fmt.Errorf("media: layers must grow in height")
		}
	}
	if c.AudioBitrate < 16_000 {
		return fmt.Errorf("media: audio bitrate %d too small", c.AudioBitrate)
	}
	if c.IOTimeout <= 0 || c.Lookahead < 0 || c.KeyframeInterval <= 0 {
		return fmt.Errorf("media: io timeout, lookahead and keyframe interval must be positive")
	}
	return nil
}

// Layer is one simulcast layer planned for a given source.
type Layer struct {
	RID     string
	Width   int
	Height  int
	Bitrate int
}

// planLayers caps the wanted layers at the source height (never upscaling),
// drops duplicates, and keeps the source aspect with even dimensions.
func planLayers(specs []LayerSpec, srcW, srcH int, sar float64) []Layer {
	if sar <= 0 {
		sar = 1
	}
	dispW := float64(srcW) * sar
	rids := []string{"q", "h", "f"}
	var out []Layer
	for _, s := range specs {
		h, br := s.Height, s.Bitrate
		if h > srcH {
			// Scale the bitrate with the pixel count.
			br = int(float64(br) * float64(srcH) * float64(srcH) / float64(h*h))
			h = srcH
		}
		h &^= 1
		if h < 2 || len(out) > 0 && out[len(out)-1].Height >= h {
			continue
		}
		w := int(dispW*float64(h)/float64(srcH)+1) &^ 1
		out = append(out, Layer{RID: rids[len(out)], Width: max(w, 2), Height: h, Bitrate: max(br, 30_000)})
	}
	return out
}

package media

import (
	"reflect"
	"testing"
)

func TestPlanLayers(t *testing.T) {
	tests := []struct {
		name       string
		w, h       int
		sar        float64
		wantHeight []int
		wantWidth  []int
	}{
		{"1080p", 1920, 1080, 1, []int{180, 360, 720}, []int{320, 640, 1280}},
		{"720p", 1280, 720, 1, []int{180, 360, 720}, []int{320, 640, 1280}},
		{"480p never upscaled", 854, 480, 1, []int{180, 360, 480}, []int{320, 640, 854}},
		{"240p", 320, 240, 1, []int{180, 240}, []int{240, 320}},
		{"odd 321x241", 321, 241, 1, []int{180, 240}, []int{240, 320}},
		{"tiny", 160, 120, 1, []int{120}, []int{160}},
		{"anamorphic DVD", 720, 576, 64.0 / 45, []int{180, 360, 576}, []int{320, 640, 1024}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := planLayers(DefaultLayers(), tt.w, tt.h, tt.sar)
			var hs, ws []int
			for i, l := range ls {
				hs, ws = append(hs, l.Height), append(ws, l.Width)
				if l.Width%2 != 0 || l.Height%2 != 0 {
					t.Errorf("layer %d: odd size %dx%d", i, l.Width, l.Height)
				}
				if l.RID != []string{"q", "h", "f"}[i] {
					t.Errorf("layer %d: rid %q", i, l.RID)
				}
			}
			if !reflect.DeepEqual(hs, tt.wantHeight) || !reflect.DeepEqual(ws, tt.wantWidth) {
				t.Fatalf("layers %dx%d, want %dx%d", ws, hs, tt.wantWidth, tt.wantHeight)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.VideoCodec = "av1" },
		func(c *Config) { c.Layers = nil },
		func(c *Config) { c.Layers[1].Height = c.Layers[0].Height },
		func(c *Config) { c.Layers[0].Bitrate = 1 },
		func(c *Config) { c.AudioBitrate = 0 },
		func(c *Config) { c.IOTimeout = 0 },
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for i, mutate := range bad {
		c := DefaultConfig()
		mutate(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

package media

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/marquee-party/marquee/internal/testmedia"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	astiav.SetLogLevel(astiav.LogLevelFatal)
	goleak.VerifyTestMain(m)
}

// recorder is a Sink that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	info   Info
	video  [][]Frame // per layer
	audio  []Frame
	onCall func(kind string, f Frame)
}

func (r *recorder) Configure(i Info) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.info = i
	r.video = make([][]Frame, len(i.Layers))
	return nil
}

func (r *recorder) WriteVideo(f Frame) error {
	r.mu.Lock()
	r.video[f.Layer] = append(r.video[f.Layer], f)
	cb := r.onCall
	r.mu.Unlock()
	if cb != nil {
		cb("video", f)
	}
	return nil
}

func (r *recorder) WriteAudio(f Frame) error {
	r.mu.Lock()
	r.audio = append(r.audio, f)
	cb := r.onCall
	r.mu.Unlock()
	if cb != nil {
		cb("audio", f)
	}
	return nil
}

func (r *recorder) snapshot() (Info, [][]Frame, []Frame) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := make([][]Frame, len(r.video))
	for i := range r.video {
		v[i] = append([]Frame(nil), r.video[i]...)
	}
	return r.info, v, append([]Frame(nil), r.audio...)
}

// vp8Size parses a VP8 keyframe header (RFC 6386 §9.1) and returns its size.
func vp8Size(t *testing.T, b []byte) (w, h int) {
	t.Helper()
	if len(b) < 10 || b[0]&1 != 0 {
		t.Fatalf("not a VP8 keyframe: % x", b[:min(len(b), 10)])
	}
	if b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		t.Fatalf("bad VP8 start code % x", b[3:6])
	}
	return int(binary.LittleEndian.Uint16(b[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(b[8:]) & 0x3fff)
}

// checkOpus checks an Opus TOC byte (RFC 6716 §3.1) says 20 ms, stereo.
func checkOpus(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 1 {
		t.Fatal("empty opus packet")
	}
	config, stereo := b[0]>>3, b[0]&0x4 != 0
	var ms20 bool
	switch {
	case config < 12: // SILK: 10,20,40,60
		ms20 = config%4 == 1
	case config < 16: // hybrid: 10,20
		ms20 = config%2 == 1
	default: // CELT: 2.5,5,10,20
		ms20 = config%4 == 3
	}
	if !ms20 || !stereo || b[0]&3 != 0 {
		t.Fatalf("opus TOC %08b: want one 20 ms stereo frame", b[0])
	}
}

func play(t *testing.T, kind testmedia.Kind, cfg Config) (*recorder, error) {
	t.Helper()
	rec := &recorder{}
	pl := NewPlayer(PlayerParams{URL: testmedia.Generate(t, kind), Config: cfg, Sink: rec, Timeline: NewTimeline(time.Now())})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return rec, pl.Run(ctx)
}

func TestPlayKinds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Unpaced = true
	tests := []struct {
		kind          testmedia.Kind
		layers, audio bool
		codec         string
	}{
		{testmedia.H264AAC, true, true, CodecVP8},
		{testmedia.HEVCAC351, true, true, CodecVP8},
		{testmedia.VP9Opus, true, true, CodecVP8},
		{testmedia.MPEG2TS, true, true, CodecVP8},
		{testmedia.H264TenBit, true, true, CodecH264},
		{testmedia.VideoOnly, true, false, CodecVP8},
		{testmedia.MP3, false, true, CodecVP8},
		{testmedia.FLAC, false, true, CodecVP8},
		{testmedia.MP3Cover, false, true, CodecVP8}, // cover art is not video
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			c := cfg
			c.VideoCodec = tt.codec
			rec, err := play(t, tt.kind, c)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			info, video, audio := rec.snapshot()
			if info.HasVideo() != tt.layers || info.HasAudio != tt.audio {
				t.Fatalf("info %+v: want video %v audio %v", info, tt.layers, tt.audio)
			}
			for i, l := range info.Layers {
				fs := video[i]
				if len(fs) < 2*testmedia.Duration*10 {
					t.Fatalf("layer %s: %d frames", l.RID, len(fs))
				}
				if !fs[0].Keyframe {
					t.Errorf("layer %s: first frame not a keyframe", l.RID)
				}
				if tt.codec == CodecVP8 {
					if w, h := vp8Size(t, fs[0].Data); w != l.Width || h != l.Height {
						t.Errorf("layer %s: keyframe %dx%d, planned %dx%d", l.RID, w, h, l.Width, l.Height)
					}
				} else if len(fs[0].Data) < 5 || fs[0].Data[2] != 0 && fs[0].Data[3] != 1 {
					t.Errorf("layer %s: not Annex B", l.RID)
				}
				last := fs[len(fs)-1].Position
				if last < time.Duration(testmedia.Duration)*time.Second-300*time.Millisecond {
					t.Errorf("layer %s: last frame at %v", l.RID, last)
				}
			}
			// Every layer carries each frame with the same RTP timestamp, so
			// the SFU can switch layers without rewriting time.
			for i := 1; i < len(video); i++ {
				if len(video[i]) != len(video[0]) {
					t.Fatalf("layer %d: %d frames, layer 0: %d", i, len(video[i]), len(video[0]))
				}
				for j := range video[i] {
					if video[i][j].Timestamp != video[0][j].Timestamp || video[i][j].Position != video[0][j].Position {
						t.Fatalf("frame %d: layer %d at %d, layer 0 at %d", j, i, video[i][j].Timestamp, video[0][j].Timestamp)
					}
				}
			}
			if tt.audio {
				if len(audio) < testmedia.Duration*40 {
					t.Fatalf("%d audio packets", len(audio))
				}
				for _, a := range audio[:5] {
					checkOpus(t, a.Data)
				}
				for i := 1; i < len(audio); i++ {
					if d := audio[i].Timestamp - audio[i-1].Timestamp; d != 960 {
						t.Fatalf("audio packet %d: timestamp step %d, want 960", i, d)
					}
				}
			}
		})
	}
}

func TestBadMedia(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Unpaced = true
	tests := []struct {
		kind testmedia.Kind
		want error
	}{
		{testmedia.NotMedia, ErrOpen},
		{testmedia.Empty, ErrOpen},
		{testmedia.UnsupportedCodec, ErrUnsupportedCodec},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			_, err := play(t, tt.kind, cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		pl := NewPlayer(PlayerParams{URL: "/nonexistent/file.mp4", Config: cfg, Sink: &recorder{}})
		if err := pl.Run(context.Background()); !errors.Is(err, ErrOpen) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run(string(testmedia.Truncated), func(t *testing.T) {
		// A truncated file plays what it has, then fails clearly.
		if _, err := play(t, testmedia.Truncated, cfg); !errors.Is(err, ErrRead) {
			t.Fatalf("err = %v, want %v", err, ErrRead)
		}
	})
}

func TestPreferredLanguage(t *testing.T) {
	for _, tt := range []struct{ prefer, want string }{{"", "fra"}, {"eng", "eng"}, {"ENG", "eng"}, {"deu", "fra"}} {
		t.Run(tt.prefer, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Unpaced, cfg.PreferredLanguage = true, tt.prefer
			rec, err := play(t, testmedia.TwoLanguages, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if info, _, _ := rec.snapshot(); info.AudioLanguage != tt.want {
				t.Fatalf("audio language %q, want %q", info.AudioLanguage, tt.want)
			}
		})
	}
}

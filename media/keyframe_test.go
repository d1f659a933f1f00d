package media

import (
	"context"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// TestKeyframeOnRequest: a PLI for one layer makes that layer, and only
// it, send a keyframe within the lookahead's few frames.
func TestKeyframeOnRequest(t *testing.T) {
	ch := make(chan sent, 4096)
	rec := &recorder{onCall: func(k string, f Frame) { ch <- sent{k, f} }}
	pl := NewPlayer(PlayerParams{URL: testmedia.Generate(t, testmedia.H264AAC), Config: DefaultConfig(),
		Sink: rec, Timeline: NewTimeline(time.Now()), Start: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- pl.Run(ctx) }()
	defer func() {
		cancel()
		<-errc
	}()
	// Skip the start's keyframes and let a few frames go.
	waitFrame(t, ch, func(f Frame) bool { return f.Position >= time.Second })
	pl.RequestKeyframe(1)
	var layer1, layer0Keys int
	deadline := time.After(30 * time.Second)
	for layer1 < 10 {
		select {
		case s := <-ch:
			if s.kind != "video" {
				continue
			}
			switch s.f.Layer {
			case 0:
				if s.f.Keyframe {
					layer0Keys++
				}
			case 1:
				layer1++
				if s.f.Keyframe {
					if layer0Keys > 0 {
						t.Fatal("layer 0 sent a keyframe it was not asked for")
					}
					return
				}
			}
		case <-deadline:
			t.Fatal("timed out")
		}
	}
	t.Fatalf("no keyframe on layer 1 within %d frames of the request", layer1)
}

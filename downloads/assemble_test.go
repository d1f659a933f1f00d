package downloads

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/marquee-party/marquee/vod"
)

// TestAssembleSeparateAudio assembles one file from two renditions, video
// from one and audio from another, as when vod serves audio as alternate
// renditions (EXT-X-MEDIA): the file interleaves their fragments, and
// plays its full length with both streams and no gaps.
func TestAssembleSeparateAudio(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	root, path, err := r.lib.MediaRoot(ctx, r.film)
	if err != nil {
		t.Fatal(err)
	}
	x, err := r.vod.Export(root, path)
	if err != nil {
		t.Fatal(err)
	}
	var video, audio vod.ExportRendition
	for _, rd := range x.Renditions() {
		if rd.Remux {
			audio = rd // stands in for an audio-only rendition
		} else {
			video = rd
		}
	}
	if audio.Name == "" || video.Name == "" {
		t.Fatalf("renditions = %+v", x.Renditions())
	}
	// plan takes an audio-only rendition (height 0) beside the video.
	audioOnly := audio
	audioOnly.Height, audioOnly.Remux = 0, false
	strands, err := plan(profiles[rank(Profile480p)], []vod.ExportRendition{video, audioOnly})
	if err != nil || len(strands) != 2 || strands[0].keep(false) || strands[1].keep(true) {
		t.Fatalf("plan = %+v, %v", strands, err)
	}
	out := filepath.Join(t.TempDir(), "muxed.mp4")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	err = assemble(ctx, x, strands, f, func() { steps++ })
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + video.Segments + audio.Segments; steps != want {
		t.Errorf("%d steps, want %d", steps, want)
	}
	checkPlayable(t, out, x.Duration().Milliseconds(), []string{"h264", "aac"})
}

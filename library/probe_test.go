package library

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/marquee-party/marquee/internal/testmedia"
)

func TestProbe(t *testing.T) {
	t.Run("h264 aac", func(t *testing.T) {
		mi, err := Probe(media(t, testmedia.H264AAC))
		if err != nil {
			t.Fatal(err)
		}
		if mi.DurationMs < 3900 || mi.DurationMs > 4200 {
			t.Errorf("duration %d ms, want about 4000", mi.DurationMs)
		}
		if len(mi.Video) != 1 || mi.Video[0].Codec != "h264" || mi.Video[0].Width != 320 || mi.Video[0].Height != 240 || mi.Video[0].HDR != "" {
			t.Errorf("video %+v", mi.Video)
		}
		if len(mi.Audio) != 1 || mi.Audio[0].Codec != "aac" || mi.Audio[0].Channels != 2 || mi.Audio[0].SampleRate != 48000 {
			t.Errorf("audio %+v", mi.Audio)
		}
		if mi.CoverArt != -1 || !mi.HasVideo() {
			t.Errorf("cover art %d, has video %v", mi.CoverArt, mi.HasVideo())
		}
	})
	t.Run("hdr10 with languages and subtitles", func(t *testing.T) {
		mi, err := Probe(clip(t, clipHDR))
		if err != nil {
			t.Fatal(err)
		}
		if len(mi.Video) != 1 || mi.Video[0].Codec != "hevc" || mi.Video[0].HDR != "HDR10" {
			t.Errorf("video %+v", mi.Video)
		}
		if len(mi.Audio) != 1 || mi.Audio[0].Language != "fre" {
			t.Errorf("audio %+v", mi.Audio)
		}
		if len(mi.Subtitles) != 1 || mi.Subtitles[0].Codec != "subrip" || mi.Subtitles[0].Language != "eng" {
			t.Errorf("subtitles %+v", mi.Subtitles)
		}
	})
	t.Run("5.1", func(t *testing.T) {
		mi, err := Probe(media(t, testmedia.HEVCAC351))
		if err != nil {
			t.Fatal(err)
		}
		if len(mi.Audio) != 1 || mi.Audio[0].Channels != 6 || mi.Audio[0].Codec != "ac3" {
			t.Errorf("audio %+v", mi.Audio)
		}
	})
	t.Run("mp3 with cover art", func(t *testing.T) {
		mi, err := Probe(clip(t, clipCover))
		if err != nil {
			t.Fatal(err)
		}
		if mi.CoverArt < 0 || mi.HasVideo() {
			t.Errorf("cover art %d, has video %v (%+v)", mi.CoverArt, mi.HasVideo(), mi.Video)
		}
		if mi.Tags["album"] != "Tag Album" || mi.Tags["title"] != "Tagged Song" {
			t.Errorf("tags %v", mi.Tags)
		}
	})
	for _, k := range []testmedia.Kind{testmedia.NotMedia, testmedia.Empty} {
		t.Run(string(k), func(t *testing.T) {
			if _, err := Probe(media(t, k)); !errors.Is(err, ErrProbe) {
				t.Errorf("err = %v, want ErrProbe", err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := Probe(filepath.Join(t.TempDir(), "nope.mkv")); !errors.Is(err, ErrProbe) {
			t.Errorf("err = %v, want ErrProbe", err)
		}
	})
}

func TestPosterFromFrameAndCover(t *testing.T) {
	dir := t.TempDir()
	src := media(t, testmedia.H264AAC)
	mi, err := Probe(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := grabPoster(src, mi.Video[0].Index, mi.DurationMs)
	if err != nil {
		t.Fatal(err)
	}
	out := writeFile(t, dir, "frame.jpg", b)
	if w, h := jpegSize(t, out); w != 300 || h != 224 {
		t.Errorf("thumbnail %dx%d, want 300x224", w, h)
	}
	cover := clip(t, clipCover)
	mi, err = Probe(cover)
	if err != nil {
		t.Fatal(err)
	}
	b, err = coverArt(cover, mi.CoverArt)
	if err != nil {
		t.Fatal(err)
	}
	out = writeFile(t, dir, "cover.jpg", b)
	if w, h := jpegSize(t, out); w != 200 || h != 200 {
		t.Errorf("cover %dx%d, want 200x200", w, h)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
}

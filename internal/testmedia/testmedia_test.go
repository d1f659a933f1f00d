package testmedia

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		kind    Kind
		streams string // ffprobe codec names, comma separated; "" for non-media
	}{
		{H264AAC, "h264,aac"},
		{HEVCAC351, "hevc,ac3"},
		{VP9Opus, "vp9,opus"},
		{MPEG2TS, "mpeg2video,mp2"},
		{H264TenBit, "h264,aac"},
		{VideoOnly, "h264"},
		{Rotated, "h264,aac"},
		{TwoLanguages, "h264,aac"},
		{MP3, "mp3"},
		{FLAC, "flac"},
		{MP3Cover, "mp3,mjpeg"},
		{UnsupportedCodec, "unknown"},
		{Tracks, "h264,aac,subrip"},
		{ImageSubtitles, "h264,hdmv_pgs_subtitle,dvb_subtitle"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			p := Generate(t, tt.kind)
			out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
				"-of", "csv=p=0", p).Output()
			if err != nil {
				t.Fatalf("ffprobe %s: %v", p, err)
			}
			var names []string
			for _, f := range strings.Fields(string(out)) {
				f = strings.Trim(f, ",")
				if f != "" && !slices.Contains(names, f) {
					names = append(names, f)
				}
			}
			got := strings.Join(names, ",")
			if got != tt.streams {
				t.Errorf("streams = %q, want %q", got, tt.streams)
			}
		})
	}
	for _, k := range []Kind{Truncated, NotMedia, Empty} {
		t.Run(string(k), func(t *testing.T) {
			st, err := os.Stat(Generate(t, k))
			if err != nil {
				t.Fatal(err)
			}
			if k == Empty && st.Size() != 0 || k != Empty && st.Size() == 0 {
				t.Errorf("size = %d", st.Size())
			}
		})
	}
	if _, err := Path("nope"); err == nil {
		t.Error("unknown kind: no error")
	}
}

package vod

import (
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestRemuxBandwidthCountsItsVideo: the remux rendition's BANDWIDTH is
// its video's bit rate plus the audio group's highest (RFC 8216
// §4.3.4.2), a fifth on top, not the whole file's bit rate, which counts
// every audio stream (and then the audio once more).
func TestRemuxBandwidthCountsItsVideo(t *testing.T) {
	hf := newHTTPFixture(t, newTracksFixture(t))
	master := string(mustMaster(t, hf))
	var bw int
	for _, m := range streamInf.FindAllStringSubmatch(master, -1) {
		if strings.Contains(m[2], "/src/") {
			b := strings.SplitN(strings.SplitN(m[1], "BANDWIDTH=", 2)[1], ",", 2)[0]
			bw, _ = strconv.Atoi(b)
		}
	}
	if bw == 0 {
		t.Fatalf("no src variant:\n%s", master)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0", hf.path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var bytes int
	for _, l := range strings.Fields(string(out)) {
		n, _ := strconv.Atoi(l)
		bytes += n
	}
	it, err := hf.svc.item(hf.root, hf.path)
	if err != nil {
		t.Fatal(err)
	}
	audio := 0
	for _, a := range it.tl.AudioTracks {
		audio = max(audio, a.Bitrate)
	}
	want := (float64(bytes)*8/mediaDuration(t, hf.path) + float64(audio)) * 6 / 5
	if math.Abs(float64(bw)-want) > want/20 {
		t.Fatalf("src BANDWIDTH %d, want about %.0f (video %d B, audio %d b/s)", bw, want, bytes, audio)
	}
}

package vod

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/library"
)

// musicFixture puts an audio-only file made by args (ffmpeg, see clip)
// into a library root and serves it with 2 s segments.
func musicFixture(t *testing.T, name string, args ...string) *httpFixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.Rename(clip(t, name, args...), path); err != nil {
		t.Fatal(err)
	}
	root, err := library.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{t: t, root: root, path: path, cache: t.TempDir()}
	fx.start(0)
	return newHTTPFixture(t, fx)
}

var streamInf = regexp.MustCompile(`#EXT-X-STREAM-INF:([^\n]*)\n([^\n]+)`)

// TestAudioOnlySource (music tracks): an MP3 with cover art (encoded to
// AAC-LC) and an AAC-LC stereo .m4a (copied) get a master playlist with
// one audio-only variant, CODECS="mp4a.40.2" and no RESOLUTION (RFC 8216
// §4.3.4.2), whose media playlist is the audio rendition: segments on the
// k*D grid of the audio's own timeline, each decoding, adding up to the
// track's duration within one AAC frame.
func TestAudioOnlySource(t *testing.T) {
	tone := []string{"-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100", "-f", "lavfi", "-i",
		"color=c=red:size=300x300", "-t", "9.3", "-map", "0:a"}
	for _, c := range []struct {
		name   string
		args   []string
		copied bool
	}{
		{"track.mp3", append(append([]string(nil), tone...), "-map", "1:v", "-frames:v", "1", "-c:a", "libmp3lame", "-ac", "2",
			"-c:v", "mjpeg", "-disposition:v", "attached_pic", "-id3v2_version", "3"), false},
		{"track.m4a", append(append([]string(nil), tone[:4]...), "-t", "9.3", "-c:a", "aac", "-ac", "2"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			hf := musicFixture(t, c.name, c.args...)
			master := string(mustMaster(t, hf))
			vs := streamInf.FindAllStringSubmatch(master, -1)
			if len(vs) != 1 || !strings.Contains(vs[0][1], `CODECS="mp4a.40.2"`) || strings.Contains(vs[0][1], "RESOLUTION") ||
				strings.Contains(master, "TYPE=AUDIO") {
				t.Fatalf("want one audio-only variant and no audio group:\n%s", master)
			}
			bw := regexp.MustCompile(`BANDWIDTH=(\d+)`).FindStringSubmatch(vs[0][1])
			if n, _ := strconv.Atoi(bw[1]); n < 64_000 || n > 400_000 {
				t.Errorf("BANDWIDTH %d for one AAC stream", n)
			}
			checkAudioRendition(t, hf, vs[0][2])
			it, err := hf.svc.item(hf.root, hf.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := it.tl.AudioTracks[0].Copied; got != c.copied {
				t.Errorf("copied %v, want %v", got, c.copied)
			}
			checkDecodedLength(t, hf, vs[0][2])
		})
	}
}

// checkDecodedLength decodes the whole audio rendition behind playlist
// url with the ffprobe CLI (init segment and every segment concatenated)
// and compares its length with the source's: within one AAC frame
// (1024 samples) plus the encoder's priming frame when it was encoded.
func checkDecodedLength(t *testing.T, hf *httpFixture, url string) {
	t.Helper()
	_, body := hf.fetch(url)
	objs, _ := uris(string(body))
	var all []byte
	for _, u := range objs {
		resp, b := hf.fetch(u)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
		}
		all = append(all, b...)
	}
	f := filepath.Join(t.TempDir(), "all.mp4")
	if err := os.WriteFile(f, all, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=duration", "-of", "csv=p=0", f).Output()
	if err != nil {
		t.Fatalf("ffprobe of the whole rendition: %v", err)
	}
	got, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	want := mediaDuration(t, hf.path)
	if d := math.Abs(got - want); d > 2*float64(audioFrame)/audioRate+1e-3 {
		t.Errorf("the rendition decodes to %.4f s, the track is %.4f s", got, want)
	}
	t.Logf("rendition %.4f s, source %.4f s", got, want)
}

package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// vodTracksPage plays the master playlist with hls.js, unmuted, through a
// WebAudio AnalyserNode that tells the dominant frequency of what plays.
const vodTracksPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>marquee vod tracks test</title></head>
<body style="margin:0;background:#111">
<video id="v" playsinline style="width:640px;height:480px;background:#000"></video>
<script src="/hls.js"></script>
<script>
window.fatal = null;
window.switched = -1;
const v = document.getElementById("v");
const ac = new AudioContext();
const analyser = ac.createAnalyser();
analyser.fftSize = 8192;
ac.createMediaElementSource(v).connect(analyser);
analyser.connect(ac.destination);
const bins = new Float32Array(analyser.frequencyBinCount);
// dominant is the frequency (Hz) of the loudest bin, 0 in silence.
window.dominant = () => {
  analyser.getFloatFrequencyData(bins);
  let best = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return bins[best] < -90 ? 0 : best * ac.sampleRate / analyser.fftSize;
};
// cueText is the text of the active cues of the showing text track.
window.cueText = () => {
  for (const t of v.textTracks) {
    if (t.mode === "showing" && t.activeCues) return Array.from(t.activeCues).map(c => c.text).join("|");
  }
  return "";
};
const hls = new Hls();
window.hls = hls;
hls.on(Hls.Events.ERROR, (e, d) => { console.log("hls error", d.type, d.details, d.fatal); if (d.fatal) window.fatal = d.details; });
hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, (e, d) => { window.switched = d.id; });
hls.on(Hls.Events.MANIFEST_PARSED, () => { ac.resume(); v.play(); });
hls.loadSource(%q);
hls.attachMedia(v);
</script></body></html>`

// TestVODAudioAndSubtitleTracksInHLSJS: hls.js in Chromium lists the film's
// English and French audio renditions and its subtitle renditions,
// switches to French audio (the tone heard changes from 440 Hz to
// 1320 Hz and playback goes on), and shows the embedded English and a
// sidecar French subtitle cue at their times.
func TestVODAudioAndSubtitleTracksInHLSJS(t *testing.T) {
	src, err := os.ReadFile(testmedia.Generate(t, testmedia.Tracks))
	if err != nil {
		t.Fatal(err)
	}
	srt := "1\n00:00:02,500 --> 00:00:04,000\nBonjour\n\n2\n00:00:21,000 --> 00:00:23,250\nDeuxième ligne\nsur deux lignes\n"
	srvURL := vodTracksServer(t, src, srt)
	b := StartChrome(t)
	p := b.NewPage(t, "vod-tracks", srvURL)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	check := func() {
		t.Helper()
		var fatal string
		if err := p.Eval(`window.fatal || ""`, &fatal); err != nil || fatal != "" {
			t.Fatalf("hls.js fatal error %q (%v)", fatal, err)
		}
	}
	p.WaitTrue(ctx, `window.fatal || (v.currentTime > 1.5 && !v.paused)`)
	check()
	var tracks string
	if err := p.Eval(`JSON.stringify({audio: hls.audioTracks.map(t => [t.name, t.lang, t.default]), subs: hls.subtitleTracks.map(t => [t.name, t.lang])})`, &tracks); err != nil {
		t.Fatal(err)
	}
	want := `{"audio":[["English","en",true],["French","fr",false]],"subs":[["English","en"],["French","fr"]]}`
	if tracks != want {
		t.Fatalf("hls.js tracks\n got %s\nwant %s", tracks, want)
	}
	near := func(hz float64) string { return fmt.Sprintf(`Math.abs(window.dominant() - %g) < 15`, hz) }
	p.WaitTrue(ctx, `window.fatal || `+near(440))
	check()

	// Switch to French: the switch is announced, the tone changes, and
	// playback goes on.
	var at float64
	if err := p.Eval(`hls.audioTrack = 1, v.currentTime`, &at); err != nil {
		t.Fatal(err)
	}
	p.WaitTrue(ctx, `window.fatal || window.switched === 1`)
	p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || (%s && v.currentTime > %g && !v.paused)`, near(1320), at+1))
	check()
	p.Screenshot("vod-tracks-french-audio")
	var hz float64
	if err := p.Eval(`window.dominant()`, &hz); err != nil || math.Abs(hz-1320) > 15 {
		t.Fatalf("after the switch the dominant frequency is %.0f Hz (%v), want 1320", hz, err)
	}

	// Subtitles: the embedded English cue at 7-10 s, then the French
	// sidecar's second cue at 21-23.25 s.
	for _, c := range []struct {
		track int
		seek  float64
		text  string
		start float64
	}{{0, 7.2, "Embedded line 1", 7}, {1, 21.3, "Deuxième ligne\nsur deux lignes", 21}} {
		if err := p.Eval(fmt.Sprintf(`hls.subtitleDisplay = true, hls.subtitleTrack = %d, v.currentTime = %g`, c.track, c.seek), nil); err != nil {
			t.Fatal(err)
		}
		p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || window.cueText() === %q`, c.text))
		check()
		p.Screenshot(fmt.Sprintf("vod-tracks-subtitle-%d", c.track))
		// Placed at its time (X-TIMESTAMP-MAP read right), within the
		// 21 ms the film's first frame starts after its container's zero.
		var start float64
		if err := p.Eval(`Array.from(v.textTracks).find(t => t.mode === "showing").activeCues[0].startTime`, &start); err != nil || math.Abs(start-c.start) > 0.03 {
			t.Errorf("cue %q starts at %.3f s (%v), want %g", c.text, start, err, c.start)
		}
	}
}

// TestVODEncodedAudioInHLSJS: a film whose audio is Opus gets an encoded
// AAC alternate audio rendition, which hls.js plays (an 880 Hz tone).
func TestVODEncodedAudioInHLSJS(t *testing.T) {
	out := filepath.Join(t.TempDir(), "opus.mkv")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=880:sample_rate=48000", "-t", "12", "-c:v", "libx264", "-preset", "veryfast",
		"-pix_fmt", "yuv420p", "-c:a", "libopus", "-ac", "2", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	src, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p := StartChrome(t).NewPage(t, "vod-opus", vodTracksServer(t, src, ""))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p.WaitTrue(ctx, `window.fatal || (v.currentTime > 3 && !v.paused && Math.abs(window.dominant() - 880) < 15)`)
	var st string
	if err := p.Eval(`JSON.stringify([window.fatal, hls.audioTracks.length, hls.audioTracks[0].url.includes("/a1/")])`, &st); err != nil || st != `[null,1,true]` {
		t.Fatalf("state %s (%v), want no fatal error and one audio track", st, err)
	}
	p.Screenshot("vod-tracks-encoded-audio")
}

// vodTracksServer serves film (Matroska bytes), with srt beside it as a
// French SubRip sidecar unless empty, through vod's handler, plus hls.js
// and the test page.
func vodTracksServer(t *testing.T, src []byte, srt string) string {
	lib := t.TempDir()
	film := filepath.Join(lib, "Film (2026).mkv")
	if err := os.WriteFile(film, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if srt != "" {
		if err := os.WriteFile(strings.TrimSuffix(film, ".mkv")+".fr.srt", []byte(srt), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base, _ := vodServer(t, lib, film, 0, vodTracksPage)
	return base
}

package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/marquee-party/marquee/internal/testmedia"
)

// musicTracksLibrary is a media root of its own (the sample library's
// counts stay as other tests expect): the sample album's FLAC tracks and
// cover, and the Tracks film (English 440 Hz and French 1320 Hz audio,
// embedded English SubRip) with a French sidecar .srt.
func musicTracksLibrary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := partyLibrary(t)
	err := filepath.WalkDir(filepath.Join(src, "music"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy the album: %v", err)
	}
	film, err := os.ReadFile(testmedia.Generate(t, testmedia.Tracks))
	if err != nil {
		t.Fatal(err)
	}
	movie := filepath.Join(dir, "movies", "Tracks (2026)")
	srt := "1\n00:00:02,500 --> 00:00:04,000\nBonjour\n\n2\n00:00:21,000 --> 00:00:23,250\nDeuxième ligne\n"
	if err := os.MkdirAll(movie, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"Tracks (2026).mkv": film, "Tracks (2026).fr.srt": []byte(srt)} {
		if err := os.WriteFile(filepath.Join(movie, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// analyserJS routes the player's media element through a WebAudio
// AnalyserNode once and defines window.dominant(): the frequency (Hz) of
// the loudest bin of what plays, 0 in silence.
const analyserJS = `(() => {
	if (window.dominant) return true;
	const v = document.querySelector(".player video");
	const ac = new AudioContext(), an = ac.createAnalyser();
	an.fftSize = 8192;
	ac.createMediaElementSource(v).connect(an);
	an.connect(ac.destination);
	ac.resume();
	const bins = new Float32Array(an.frequencyBinCount);
	window.dominant = () => {
		an.getFloatFrequencyData(bins);
		let best = 0;
		for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
		return bins[best] < -90 ? 0 : best * ac.sampleRate / an.fftSize;
	};
	return true;
})()`

// near is a JS test that the dominant frequency is hz, within 15 Hz (the
// analyser's bins are 5.9 Hz wide).
func near(hz float64) string { return fmt.Sprintf(`Math.abs(window.dominant() - %g) < 15`, hz) }

// TestWebappPlayerMusic (issue #14): Play on a music track plays it in the
// web app's player in music mode (its cover and title, no black video
// box): time advances and audio decodes, the 220 Hz tone of the track.
// Then the Tracks film in the same player: its Audio menu lists English
// and French and choosing French switches the rendition (hls.js
// audioTrack 1, the tone goes 440 → 1320 Hz); its Subtitles menu turns
// the embedded English track on and its cue's text becomes active.
func TestWebappPlayerMusic(t *testing.T) {
	st, link := startStackWith(t, stackOptions{noIngest: true, library: musicTracksLibrary(t)})
	b := StartChrome(t)
	host := signInHost(t, b, link)
	mustEval(host, `sessionStorage.setItem("marquee.passwordLater", "1")`, nil)
	track := searchItemID(t, host, "Dawn")

	act(host, "open the track's page", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, track)))
	play := fmt.Sprintf(`a[href="/watch/%d"]`, track)
	act(host, "press Play", 20*time.Second, chromedp.WaitVisible(chromedp.CSS(play)), chromedp.Click(chromedp.CSS(play)))
	waitFor(host, "music mode", `(() => { const m = document.querySelector(".player-music");
		return m && m.querySelector(".poster") && m.querySelector("h2").textContent === "Dawn"; })()`, 60*time.Second)
	mustEval(host, analyserJS, nil)
	waitFor(host, "the track to play and its audio to decode", `(() => { const v = document.querySelector(".player video");
		return v.currentTime > 3 && !v.paused && v.webkitAudioDecodedByteCount > 0 && `+near(220)+`; })()`, 60*time.Second)
	var s struct {
		Time  float64
		Bytes int
		Hz    float64
	}
	mustEval(host, `(() => { const v = document.querySelector(".player video");
		return {time: v.currentTime, bytes: v.webkitAudioDecodedByteCount, hz: window.dominant()}; })()`, &s)
	t.Logf("music: %.1f s played, %d audio bytes decoded, %.0f Hz", s.Time, s.Bytes, s.Hz)
	host.Screenshot("webapp-player-music")

	film := searchItemID(t, host, "Tracks")
	act(host, "open the Tracks film in the player", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/watch/%d", st.APIURL, film)))
	waitFor(host, "the film to play", `(() => { const v = document.querySelector(".player video");
		return v && v.currentTime > 1 && !v.paused && !document.querySelector(".player-music"); })()`, 90*time.Second)
	mustEval(host, analyserJS, nil)
	waitFor(host, "the English 440 Hz tone", near(440), 30*time.Second)
	checkAudioMenu(t, host)
	checkSubtitleMenu(t, host)
}

// checkAudioMenu opens the player's Audio menu (English and French) and
// picks French: hls.js switches to audio track 1 and the tone heard goes
// to 1320 Hz while playback goes on.
func checkAudioMenu(t *testing.T, p *Page) {
	t.Helper()
	act(p, "open the Audio menu", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label^="Audio"]`)))
	var labels string
	waitFor(p, "the Audio menu", `document.querySelectorAll("#menu-audio [role=menuitemradio]").length === 2`, 10*time.Second)
	mustEval(p, `[...document.querySelectorAll("#menu-audio [role=menuitemradio]")].map(b => b.textContent).join(",")`, &labels)
	if labels != "English,French" {
		t.Fatalf("the Audio menu lists %q, want English,French", labels)
	}
	p.Screenshot("webapp-player-audio-menu")
	var at float64
	mustEval(p, `document.querySelector(".player video").currentTime`, &at)
	act(p, "choose French", 10*time.Second, chromedp.Click(chromedp.CSS(`#menu-audio [role=menuitemradio]:nth-of-type(2)`)))
	waitFor(p, "French audio", fmt.Sprintf(`(() => { const v = document.querySelector(".player video");
		return document.querySelector(".player").dataset.audio === "1" && %s && v.currentTime > %g && !v.paused; })()`, near(1320), at+1), 60*time.Second)
	var hz float64
	mustEval(p, `window.dominant()`, &hz)
	t.Logf("after choosing French: %.0f Hz", hz)
}

// checkSubtitleMenu opens the Subtitles menu (Off, English, French),
// turns English on and seeks to its cue at 7-10 s: the cue's text is
// active on the showing text track.
func checkSubtitleMenu(t *testing.T, p *Page) {
	t.Helper()
	act(p, "open the Subtitles menu", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label^="Subtitles"]`)))
	waitFor(p, "the Subtitles menu", `[...document.querySelectorAll("#menu-subtitles [role=menuitemradio]")].map(b => b.textContent).join(",") === "Off,English,French"`, 10*time.Second)
	p.Screenshot("webapp-player-subtitles-menu")
	act(p, "choose English subtitles", 10*time.Second, chromedp.Click(chromedp.CSS(`#menu-subtitles [role=menuitemradio]:nth-of-type(2)`)))
	mustEval(p, `document.querySelector(".player video").currentTime = 7.2`, nil)
	waitFor(p, "the English cue", `(() => { const v = document.querySelector(".player video");
		const t = [...v.textTracks].find(t => t.mode === "showing");
		return document.querySelector(".player").dataset.subtitle === "0" && t && t.activeCues &&
			[...t.activeCues].some(c => c.text === "Embedded line 1"); })()`, 60*time.Second)
	// The video, and so its cue, fits in the player box (not cut off).
	var fit struct{ Video, Box []float64 }
	mustEval(p, `(() => { const r = e => { const b = e.getBoundingClientRect(); return [b.top, b.bottom, b.left, b.right]; };
		return {video: r(document.querySelector(".player video")), box: r(document.querySelector(".player"))}; })()`, &fit)
	if fit.Video[0] < fit.Box[0]-1 || fit.Video[1] > fit.Box[1]+1 || fit.Video[2] < fit.Box[2]-1 || fit.Video[3] > fit.Box[3]+1 {
		t.Errorf("the video %v overflows the player box %v: its bottom, where cues show, is cut off", fit.Video, fit.Box)
	}
	// Let the cue paint (it is active from 7 s to 10 s).
	mustEval(p, `new Promise(r => setTimeout(() => r(true), 700))`, nil)
	p.Screenshot("webapp-player-subtitle-cue")
}

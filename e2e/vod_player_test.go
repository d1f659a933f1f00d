package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// videoJS reads the player's <video> and the hls.js level it plays.
const videoJS = `(() => {
	const v = document.querySelector(".player video"), box = document.querySelector(".player");
	if (!v) return null;
	const q = v.getVideoPlaybackQuality();
	return {time: v.currentTime, paused: v.paused, frames: q.totalVideoFrames, width: v.videoWidth,
		level: Number(box.dataset.level), chosen: Number(box.dataset.chosen)};
})()`

// playerState mirrors videoJS.
type playerState struct {
	Time   float64 `json:"time"`
	Paused bool    `json:"paused"`
	Frames int     `json:"frames"`
	Width  int     `json:"width"`
	Level  int     `json:"level"`
	Chosen int     `json:"chosen"`
}

func readPlayer(p *Page) playerState {
	p.t.Helper()
	var s playerState
	mustEval(p, videoJS, &s)
	return s
}

// pictureJS draws the current frame small and returns its mean brightness
// and spread: a black (undecoded) frame has both near 0.
const pictureJS = `(() => {
	const v = document.querySelector(".player video");
	const c = document.createElement("canvas"); c.width = 64; c.height = 36;
	const g = c.getContext("2d"); g.drawImage(v, 0, 0, 64, 36);
	const d = g.getImageData(0, 0, 64, 36).data;
	let sum = 0, sq = 0, n = 0;
	for (let i = 0; i < d.length; i += 4) { const y = (d[i] + d[i+1] + d[i+2]) / 3; sum += y; sq += y * y; n++; }
	const mean = sum / n;
	return {mean, spread: Math.sqrt(sq / n - mean * mean)};
})()`

// TestWebappPlayer (issue #14): a member opens the sample film's page,
// presses Play, and the web app's own player plays it through hls.js:
// frames decode, the seek bar draws what is buffered, the seek bar jumps
// to 1:10, a fixed quality is chosen from the menu, the keyboard pauses
// and seeks. Back on the library, Continue watching shows the film with
// its progress, and opening it resumes where the viewer left.
func TestWebappPlayer(t *testing.T) {
	st, link := startStack(t)
	b := StartChrome(t)
	host := signInHost(t, b, link)
	mustEval(host, `sessionStorage.setItem("marquee.passwordLater", "1")`, nil)
	id := searchItemID(t, host, "Big Clock")

	act(host, "open the film's page", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, id)))
	play := fmt.Sprintf(`a[href="/watch/%d"]`, id)
	act(host, "press Play", 20*time.Second, chromedp.WaitVisible(chromedp.CSS(play)), chromedp.Click(chromedp.CSS(play)))
	waitFor(host, "frames to advance", `(() => { const v = document.querySelector(".player video");
		return v && v.currentTime > 2 && !v.paused && v.getVideoPlaybackQuality().totalVideoFrames > 20; })()`, 90*time.Second)
	var pic struct{ Mean, Spread float64 }
	mustEval(host, pictureJS, &pic)
	t.Logf("picture: mean %.1f, spread %.1f", pic.Mean, pic.Spread)
	if pic.Mean < 20 || pic.Spread < 10 {
		t.Fatalf("the decoded picture is black or flat: %+v", pic)
	}
	waitFor(host, "the buffered bar", `[...document.querySelectorAll(".seek-buffered")].some(e => e.getBoundingClientRect().width > 2)`, 30*time.Second)

	// A fixed quality from the menu, other than the one auto plays now:
	// items are Auto, then the levels from the highest down.
	act(host, "open the quality menu", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label^="Quality"]`)))
	waitFor(host, "the quality menu", `document.querySelectorAll("#menu-quality [role=menuitemradio]").length >= 3`, 10*time.Second)
	host.Screenshot("webapp-player-quality-menu")
	from := readPlayer(host).Level
	var target int
	mustEval(host, `(() => { const items = [...document.querySelectorAll("#menu-quality [role=menuitemradio]")];
		const n = items.length - 1, now = Number(document.querySelector(".player").dataset.level);
		const target = now === 0 ? n - 1 : 0;
		items[1 + (n - 1 - target)].click(); return target; })()`, &target)
	waitFor(host, "the chosen level to play", fmt.Sprintf(`(() => { const b = document.querySelector(".player");
		return b.dataset.chosen === "%[1]d" && b.dataset.level === "%[1]d" && !document.querySelector(".player video").paused; })()`, target), 60*time.Second)
	t.Logf("quality: level %d → %d (%+v)", from, target, readPlayer(host))

	// Seek to 1:10 by clicking the seek bar, and play on.
	var bar struct{ X, Y, W, Duration float64 }
	mustEval(host, `(() => { const r = document.querySelector(".seek").getBoundingClientRect();
		return {x: r.left, y: r.top + r.height / 2, w: r.width, duration: document.querySelector(".player video").duration}; })()`, &bar)
	act(host, "click 1:10 on the seek bar", 10*time.Second, chromedp.MouseClickXY(bar.X+bar.W*70/bar.Duration, bar.Y))
	waitFor(host, "play on after 1:10", `(() => { const v = document.querySelector(".player video");
		return v.currentTime > 71.5 && v.currentTime < 80 && !v.paused && !v.seeking; })()`, 60*time.Second)
	if s := readPlayer(host); s.Time < 69 || s.Frames == 0 {
		t.Fatalf("after the seek to 1:10: %+v", s)
	}
	host.Screenshot("webapp-player-after-seek")

	// Keyboard: k pauses, j goes back 10 s (both save the position).
	act(host, "press k", 5*time.Second, chromedp.KeyEvent("k"))
	waitFor(host, "paused by k", `document.querySelector(".player video").paused`, 10*time.Second)
	before := readPlayer(host).Time
	act(host, "press j", 5*time.Second, chromedp.KeyEvent("j"))
	waitFor(host, "back 10 s by j", fmt.Sprintf(`(() => { const v = document.querySelector(".player video"); return !v.seeking && Math.abs(v.currentTime - %f) < 0.5; })()`, before-10), 10*time.Second)
	left := readPlayer(host).Time
	waitFor(host, "the position saved", fmt.Sprintf(`fetch("/api/items/%d/progress").then(r => r.json()).then(p => Math.abs(p.positionMs / 1000 - %f) < 1)`, id, left), 10*time.Second)

	// Leave for the library: Continue watching lists the film with its progress.
	act(host, "go to the library", 20*time.Second, chromedp.Navigate(st.APIURL+"/"))
	card := fmt.Sprintf(`.continue-row a[href="/watch/%d"]`, id)
	waitFor(host, "the Continue watching card", fmt.Sprintf(`(() => { const a = document.querySelector(%q);
		const bar = a && a.querySelector("[role=progressbar] div");
		return bar && bar.getBoundingClientRect().width > 10; })()`, card), 20*time.Second)
	var pct int
	mustEval(host, fmt.Sprintf(`Number(document.querySelector(%q).querySelector("[role=progressbar]").getAttribute("aria-valuenow"))`, card), &pct)
	if want := int(left / bar.Duration * 100); pct < want-1 || pct > want+1 {
		t.Fatalf("the card shows %d%% watched, want %d%%", pct, want)
	}
	host.Screenshot("webapp-continue-watching")

	// Opening it resumes near the saved position.
	act(host, "open the film from Continue watching", 10*time.Second, chromedp.Click(chromedp.CSS(card)))
	waitFor(host, "the resume note", `[...document.querySelectorAll(".player-resume")].some(e => e.textContent.includes("Resumed at"))`, 30*time.Second)
	waitFor(host, "playback resumed", `(() => { const v = document.querySelector(".player video");
		return v && !v.paused && v.currentTime > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0; })()`, 60*time.Second)
	s := readPlayer(host)
	t.Logf("left at %.1f s, resumed at %+v", left, s)
	if s.Time < left-0.5 || s.Time > left+8 {
		t.Fatalf("resumed at %.1f s, left at %.1f s", s.Time, left)
	}
	host.Screenshot("webapp-player-resumed")
	checkPlayerRetry(t, st, host, id)
	checkMusicPlays(t, st, host)
}

// checkPlayerRetry: when the media playlists cannot load, hls.js gives up
// and the player says so with a Retry button (not a black box); once the
// network is back, Retry plays.
func checkPlayerRetry(t *testing.T, st *stack, p *Page, id int64) {
	t.Helper()
	block := func(patterns ...string) {
		var bp []*network.BlockPattern
		for _, u := range patterns {
			bp = append(bp, &network.BlockPattern{URLPattern: u, Block: true})
		}
		if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(p.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: bp}); err != nil {
			t.Fatal(err)
		}
	}
	block("*://*:*/api/hls/*/index.m3u8*")
	act(p, "open the player with media playlists blocked", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/watch/%d", st.APIURL, id)))
	waitFor(p, "the fatal error and Retry", `(() => { const f = document.querySelector(".player-fatal");
		return f && /connection|Retry/.test(f.textContent) && [...f.querySelectorAll("button")].some(b => b.textContent === "Retry"); })()`, 90*time.Second)
	p.Screenshot("webapp-player-fatal-retry")
	block()
	act(p, "press Retry", 10*time.Second, chromedp.Click(chromedp.CSS(".player-fatal button")))
	waitFor(p, "playback after Retry", `(() => { const v = document.querySelector(".player video");
		return !document.querySelector(".player-fatal") && v && !v.paused && v.getVideoPlaybackQuality().totalVideoFrames > 0; })()`, 60*time.Second)
}

// checkMusicPlays: a music track (audio only) plays in the player in
// music mode, its artwork instead of a video box, and its audio decodes
// (it used to be refused with "no video stream").
func checkMusicPlays(t *testing.T, st *stack, p *Page) {
	t.Helper()
	var track int64
	mustEval(p, `fetch("/api/items?kind=track&limit=1").then(r => r.json()).then(j => j.items.length ? j.items[0].id : 0)`, &track)
	if track == 0 {
		t.Fatal("no music track in the sample library")
	}
	act(p, "open a music track in the player", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/watch/%d", st.APIURL, track)))
	waitFor(p, "the track to play in music mode", `(() => { const v = document.querySelector(".player video");
		return document.querySelector(".player-music .poster") && v && v.currentTime > 1 && !v.paused && v.webkitAudioDecodedByteCount > 0; })()`, 60*time.Second)
	p.Screenshot("webapp-player-music-track")
}

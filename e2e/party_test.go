package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebappParty drives the web app end to end against the real binaries:
// the host signs in, scans the library, starts a party on the sample film
// and invites two listeners, who watch in sync, chat, and cannot control;
// then pause, resume, seek and a cut connection.
func TestWebappParty(t *testing.T) {
	st, loginLink := startStack(t)
	b := StartChrome(t)
	host := newPerson(t, b, "host", 1280, 800)

	// Sign in with the first-start link, give the account a password, then
	// sign out and back in through the sign-in page.
	act(host, "open the login link", 20*time.Second, chromedp.Navigate(loginLink))
	waitFor(host, "the library after the login link", `location.pathname === "/" && !!document.querySelector(".library-page")`, 20*time.Second)
	var status int
	mustEval(host, `fetch("/api/me", {method: "PATCH", headers: {"Content-Type": "application/json"}, body: JSON.stringify({password: "popcorn-night"})}).then(r => r.status)`, &status)
	if status != 200 {
		t.Fatalf("PATCH /api/me password: status %d", status)
	}
	mustEval(host, `fetch("/api/auth/logout", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}).then(r => r.status)`, &status)
	act(host, "sign in with the form", 20*time.Second,
		chromedp.Navigate(st.APIURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "popcorn-night"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	waitFor(host, "the library after signing in", `!!document.querySelector(".library-page")`, 20*time.Second)
	checkAccountSwitcher(t, host)

	// The library is empty until the host scans it.
	for _, lib := range []string{"Movies", "Shows", "Music"} {
		act(host, "scan "+lib, 10*time.Second, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Scan library %s"]`, lib))))
		waitFor(host, lib+" scanned", `!document.querySelector(".scans button[disabled]")`, 60*time.Second)
	}
	waitFor(host, "the film's poster card", `[...document.querySelectorAll(".card")].some(c => c.textContent.includes("Big Clock"))`, 20*time.Second)
	waitFor(host, "posters loaded", `[...document.querySelectorAll("img.poster")].length >= 2 && [...document.querySelectorAll("img.poster")].every(i => i.complete && i.naturalWidth > 0)`, 20*time.Second)
	host.Screenshot("library")

	// Type filter and search.
	act(host, "filter music", 10*time.Second, chromedp.Click(chromedp.CSS(`.chips button:nth-child(5)`)))
	waitFor(host, "only music", `document.querySelectorAll(".card").length > 0 && ![...document.querySelectorAll(".card")].some(c => c.textContent.includes("Big Clock"))`, 10*time.Second)
	act(host, "all + search", 10*time.Second,
		chromedp.Click(chromedp.CSS(`.chips button:nth-child(1)`)),
		chromedp.SendKeys(chromedp.CSS(`input[type=search]`), "clock"))
	waitFor(host, "one search hit", `document.querySelectorAll(".card").length === 1`, 10*time.Second)

	// The detail page, then start a party.
	act(host, "open the film", 10*time.Second, chromedp.Click(chromedp.CSS(`.card`)))
	waitFor(host, "the detail page", `!!document.querySelector(".detail-page h1")`, 10*time.Second)
	var facts string
	mustEval(host, `document.querySelector(".detail-page").innerText`, &facts)
	for _, want := range []string{"Big Clock", "2026", "2 min", "Audio tracks", "Subtitles", "Start a party"} {
		if !strings.Contains(facts, want) {
			t.Errorf("detail page lacks %q:\n%s", want, facts)
		}
	}
	host.Screenshot("detail")
	act(host, "start a party", 10*time.Second, chromedp.Click(chromedp.CSS(`.detail-body .btn.primary`)))
	waitFor(host, "the party page", `location.pathname.startsWith("/party/") && !!window.__marquee`, 20*time.Second)
	waitFor(host, "host frames", `window.__marquee.session.stats().then(s => s.framesDecoded > 10 && s.displayed)`, 60*time.Second)
	logStats(t, "host", host)

	listeners := inviteListeners(t, b, host)
	people := append([]*Page{host}, listeners...)
	checkMediaFlows(t, people)
	// Each viewer steers its own delay to the shared target (webapp/src/aligner.ts).
	for _, p := range people {
		waitFor(p, "its delay aligned", `window.__marquee.session.stats().then(s => s.delayMs !== null && (Math.abs(s.delayMs - s.targetMs) < 40 || s.bufferMs === 0 && s.delayMs > s.targetMs))`, 30*time.Second)
	}
	checkSkew(t, people)

	// The host sees every viewer with a measured delay.
	waitFor(host, "each viewer's delay in the list", `document.querySelectorAll("[data-testid=viewer-delay]").length >= 3`, 20*time.Second)

	// Chat from one listener reaches the others.
	act(listeners[0], "send a chat message", 10*time.Second,
		chromedp.SendKeys(chromedp.CSS(`input[aria-label="Chat message"]`), "hello from Ada\r"))
	for _, p := range []*Page{host, listeners[1]} {
		waitFor(p, "Ada's chat message", `document.querySelector("[data-testid=chat-list]").innerText.includes("hello from Ada")`, 10*time.Second)
	}
	act(listeners[1], "send a reaction", 5*time.Second, chromedp.Click(chromedp.CSS(`.reaction-bar button`)))

	checkListenerCannotControl(t, listeners[0])
	checkPauseResume(t, host, people)
	checkSeek(t, host, people)

	host.Screenshot("party-host")
	listeners[0].Screenshot("party-listener")
	listeners[1].Screenshot("party-listener-phone")

	checkReconnect(t, listeners[1])
	checkQueueAndMusic(t, host, people)
	checkHandOff(t, host, listeners[0])

	// The old host leaves for the library and comes back through the
	// "Parties on now" link.
	act(host, "go to the library", 10*time.Second, chromedp.Click(chromedp.CSS(`.topnav a`)))
	waitFor(host, "the party on the library page", `!!document.querySelector(".party-chip") && document.querySelectorAll(".card").length >= 3 && [...document.querySelectorAll("img.poster")].every(i => i.complete)`, 20*time.Second)
	host.Screenshot("library-party-on")
	act(host, "back to the party", 10*time.Second, chromedp.Click(chromedp.CSS(`.party-chip`)))
	waitFor(host, "media again", `location.pathname.startsWith("/party/") && window.__marquee.session.stats().then(s => s.conn === "connected" && s.audioSamples > 0)`, 30*time.Second)

	// Ending the party tells everyone, and nobody retries for ever.
	var status2 int
	mustEval(listeners[0], `fetch("/api/parties/" + window.__marquee.partyId, {method: "DELETE"}).then(r => r.status)`, &status2)
	if status2 != 204 && status2 != 200 {
		t.Fatalf("DELETE party by its host: status %d", status2)
	}
	waitFor(listeners[1], "the party ended", `window.__marquee.session.state.get().conn === "ended"`, 30*time.Second)
	listeners[1].Screenshot("party-ended-phone")
}

// checkQueueAndMusic adds two tracks from the library search, reorders and
// removes one, then skips to the music: every page shows the audio-only
// view and measures its delay from the audio anchor.
func checkQueueAndMusic(t *testing.T, host *Page, people []*Page) {
	t.Helper()
	for _, title := range []string{"Dawn", "Dusk"} {
		act(host, "search "+title, 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`document.querySelector('input[aria-label="Search the library to add to the queue"]').value = ""`),
			chromedp.SendKeys(chromedp.CSS(`input[aria-label="Search the library to add to the queue"]`), title),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`button[aria-label="Add %s to the queue"]`, title))),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Add %s to the queue"]`, title))))
		waitFor(host, title+" queued", fmt.Sprintf(`document.querySelector("[data-testid=queue]")?.innerText.includes(%q)`, title), 10*time.Second)
	}
	act(host, "move Dusk up", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Move Dusk up"]`)))
	waitFor(host, "Dusk first in the party's queue", `fetch("/api/parties/" + window.__marquee.partyId).then(r => r.json()).then(p => p.queue.filter(e => e.status === "queued").map(e => e.title).join() === "Dusk,Dawn")`, 10*time.Second)
	act(host, "remove Dawn", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Remove Dawn from the queue"]`)))
	waitFor(host, "Dawn removed", `fetch("/api/parties/" + window.__marquee.partyId).then(r => r.json()).then(p => p.queue.filter(e => e.status === "queued").map(e => e.title).join() === "Dusk")`, 10*time.Second)

	act(host, "skip to the music", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Skip to next in queue"]`)))
	for _, p := range people {
		waitFor(p, "the audio-only view of Dusk", `!!document.querySelector(".audio-card") && document.querySelector(".audio-card").innerText.includes("Dusk") && document.querySelector(".audio-card").innerText.includes("Marquee Ensemble")`, 30*time.Second)
		// Listeners may not browse the library: the credits come from the
		// queue entry and the cover is the album's cover.jpg through the track.
		waitFor(p, "the album credit and its cover", `document.querySelector(".audio-card .audio-meta").innerText.includes("Marquee Ensemble — First Light") && [...document.querySelectorAll(".audio-card img.poster")].some(i => i.complete && i.naturalWidth > 0)`, 10*time.Second)
	}
	before := make([]pageStats, len(people))
	for i, p := range people {
		before[i] = statsOf(p)
	}
	for i, p := range people {
		waitFor(p, "music samples and an audio delay", fmt.Sprintf(`window.__marquee.session.stats().then(s => s.audioSamples > %d && s.delayMs !== null && s.delayMs > -300 && s.delayMs < 3000 && s.playbackState === "playing")`, before[i].AudioSamples+48000), 20*time.Second)
		t.Logf("%s (music): %s", p.name, statsOf(p))
	}
	people[2].Screenshot("party-music-phone")
	people[1].Screenshot("party-music-listener")
}

// checkHandOff hands the host role to a listener, whose page then offers
// the playback controls.
func checkHandOff(t *testing.T, host, to *Page) {
	t.Helper()
	mustEval(host, `window.confirm = () => true`, nil)
	act(host, "hand the host role", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Make Ada the host"]`)))
	waitFor(to, "the controls of the new host", `!!document.querySelector('button[aria-label="Pause"]') && document.querySelector("main").dataset.role === "host"`, 20*time.Second)
	waitFor(host, "the old host as co-host", `document.querySelector("main").dataset.role === "cohost"`, 20*time.Second)
}

// checkAccountSwitcher signs a second account in on the same browser, then
// switches back to the admin from the account menu without a password.
func checkAccountSwitcher(t *testing.T, p *Page) {
	t.Helper()
	var status int
	mustEval(p, `fetch("/api/users", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({username: "maria", displayName: "Maria", password: "second-screen", role: "member"})}).then(r => r.status)`, &status)
	if status != 201 && status != 200 {
		t.Fatalf("create a second account: status %d", status)
	}
	act(p, "add another account", 20*time.Second,
		chromedp.Click(chromedp.CSS(`.account-btn`)),
		chromedp.Click(chromedp.Search(`//button[contains(., "Add another account")]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`.account-switcher`)))
	p.Screenshot("signin-switcher")
	act(p, "sign in as Maria", 20*time.Second,
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "maria"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "second-screen"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitFor(p, "Maria signed in", `document.querySelector(".account-name")?.innerText === "Maria"`, 20*time.Second)
	act(p, "switch back to the admin", 20*time.Second,
		chromedp.Click(chromedp.CSS(`.account-btn`)),
		chromedp.Click(chromedp.Search(`//button[contains(., "Switch to Admin")]`)))
	waitFor(p, "the admin again", `document.querySelector(".account-name")?.innerText === "Admin" && !!document.querySelector(".library-page")`, 20*time.Second)
}

// inviteListeners mints an invite on the host's page, and two people open
// it in their own browsers: a desktop one and a phone-sized one.
func inviteListeners(t *testing.T, b *Browser, host *Page) []*Page {
	t.Helper()
	act(host, "create an invite", 10*time.Second,
		chromedp.Click(chromedp.CSS(`.invite > button`)),
		chromedp.WaitVisible(chromedp.CSS(`.popover`)),
		chromedp.Click(chromedp.CSS(`.popover .btn.primary`)))
	waitFor(host, "the invite link", `!!document.querySelector("[data-testid=invite-link]")?.value`, 10*time.Second)
	var link string
	mustEval(host, `document.querySelector("[data-testid=invite-link]").value`, &link)
	if !strings.Contains(link, "/join/") {
		t.Fatalf("invite link %q has no /join/", link)
	}
	act(host, "close the invite dialog", 5*time.Second, chromedp.Click(chromedp.CSS(`.invite > button`)))

	// A forged link is refused in words as the page opens, before anyone
	// types a name.
	forger := newPerson(t, b, "forger", 390, 844)
	forged := link[:strings.LastIndex(link, "/join/")+len("/join/")] + "AQAAAAAAAAABAQAAAAB.forged"
	act(forger, "open a forged invite", 20*time.Second, chromedp.Navigate(forged))
	waitFor(forger, "the refusal", `document.querySelector("[data-testid=invite-problem]")?.innerText.includes("not valid") && !document.querySelector("input[name=displayName]")`, 10*time.Second)

	people := []*Page{newPerson(t, b, "ada", 1280, 800), newPerson(t, b, "bo", 390, 844)}
	blockAutoplayWithSound(people[1])
	clicked := make([]float64, len(people))
	for i, p := range people {
		name := map[int]string{0: "Ada", 1: "Bo"}[i]
		act(p, "open the invite", 20*time.Second,
			chromedp.Navigate(link),
			chromedp.WaitVisible(chromedp.CSS(`input[name=displayName]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=displayName]`), name))
		mustEval(p, `Date.now()`, &clicked[i])
		act(p, "join", 10*time.Second, chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	}
	for i, p := range people {
		waitFor(p, "the film playing", `window.__marquee && window.__marquee.session.stats().then(s => s.framesDecoded > 10 && s.displayed && s.audioSamples > 0)`, 60*time.Second)
		s := logStats(t, p.name, p)
		if s.FirstFrameAtMs == nil {
			t.Fatalf("%s: no first frame time", p.name)
		}
		t.Logf("MEASURE join-to-first-frame %s: %.0f ms (click on Join to the first frame shown)", p.name, *s.FirstFrameAtMs-clicked[i])
		var badge string
		mustEval(p, `document.querySelector(".live-badge").innerText + " | " + document.querySelector(".party-title h1").innerText`, &badge)
		if !strings.Contains(strings.ToLower(badge), "live") || !strings.Contains(badge, "Big Clock") {
			t.Errorf("%s: badge and title %q, want Live and Big Clock", p.name, badge)
		}
	}
	// Bo reloads the party page: no click this time, and Bo's browser blocks
	// sound without one. The picture plays and one button offers the sound.
	bo := people[1]
	act(bo, "reload the party page", 20*time.Second, chromedp.Reload())
	waitFor(bo, "the tap to unmute button", `!!document.querySelector('button[aria-label="Tap to unmute"]') && window.__marquee.session.stats().then(s => s.framesDecoded > 10)`, 60*time.Second)
	bo.Screenshot("party-listener-tap-to-unmute")
	act(bo, "tap to unmute", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Tap to unmute"]`)))
	waitFor(bo, "sound playing", `!document.querySelector('button[aria-label="Tap to unmute"]') && !document.querySelector("audio").paused`, 10*time.Second)
	return people
}

// checkMediaFlows checks frames are decoded and audio samples arrive on
// every page, and keep rising.
func checkMediaFlows(t *testing.T, people []*Page) {
	t.Helper()
	before := make([]pageStats, len(people))
	for i, p := range people {
		before[i] = statsOf(p)
	}
	time.Sleep(2 * time.Second)
	for i, p := range people {
		after := statsOf(p)
		if after.FramesDecoded < before[i].FramesDecoded+10 {
			t.Errorf("%s: framesDecoded %d → %d in 2 s: video is not flowing", p.name, before[i].FramesDecoded, after.FramesDecoded)
		}
		if after.AudioSamples <= before[i].AudioSamples {
			t.Errorf("%s: audio samples %d → %d in 2 s: audio is not flowing", p.name, before[i].AudioSamples, after.AudioSamples)
		}
		t.Logf("%s: %s", p.name, after)
	}
}

// checkSkew compares the positions the pages show. Every page runs on
// this machine's clock, so each page's median of (position shown − wall time
// it was shown) over its last second of frames puts them on one timeline;
// the spread of those offsets is how far apart the viewers are. It also
// logs the spread of single frames extrapolated to one instant. The median
// of 25 samples (5 s) must stay within 100 ms.
func checkSkew(t *testing.T, people []*Page) {
	t.Helper()
	var skews, frameSkews []float64
	var trace []string
	for range 25 {
		lo, hi := 1e18, -1e18
		flo, fhi := 1e18, -1e18
		ss := make([]pageStats, len(people))
		at := 0.0
		for i, p := range people {
			ss[i] = statsOf(p)
			if ss[i].Displayed == nil || ss[i].OffsetMs == nil {
				t.Fatalf("%s: no displayed position", p.name)
			}
			lo, hi = min(lo, *ss[i].OffsetMs), max(hi, *ss[i].OffsetMs)
			at = max(at, ss[i].Displayed.AtMs)
		}
		line := ""
		for i, s := range ss {
			pos := s.Displayed.PositionMs + (at - s.Displayed.AtMs)
			flo, fhi = min(flo, pos), max(fhi, pos)
			line += fmt.Sprintf(" %s offset=%.0f %s;", people[i].name, *s.OffsetMs-lo, s)
		}
		trace = append(trace, line)
		skews = append(skews, hi-lo)
		frameSkews = append(frameSkews, fhi-flo)
		time.Sleep(200 * time.Millisecond)
	}
	med, fmed := median(skews), median(frameSkews)
	sort.Float64s(skews)
	sort.Float64s(frameSkews)
	t.Logf("MEASURE inter-viewer skew over %d samples (3 browsers, 1 s median per page): median %.0f ms, max %.0f ms; single frames: median %.0f ms, max %.0f ms",
		len(skews), med, skews[len(skews)-1], fmed, frameSkews[len(frameSkews)-1])
	if med > 100 {
		t.Errorf("displayed positions disagree: median spread %.0f ms > 100 ms (samples %v)\n%s", med, roundAll(skews), strings.Join(trace, "\n"))
	}
}

// checkListenerCannotControl: no transport controls on a listener's page,
// and the API refuses a listener's pause.
func checkListenerCannotControl(t *testing.T, l *Page) {
	t.Helper()
	var n int
	mustEval(l, `document.querySelectorAll('button[aria-label="Pause"], button[aria-label="Play"], input[aria-label="Seek"], button[aria-label="Stop"]').length`, &n)
	if n != 0 {
		t.Errorf("%s: a listener's page shows %d playback controls", l.name, n)
	}
	var status int
	mustEval(l, `fetch("/api/parties/" + window.__marquee.partyId + "/control", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({action: "pause"})}).then(r => r.status)`, &status)
	if status != 403 {
		t.Errorf("%s: a listener's pause answered %d, want 403", l.name, status)
	}
	time.Sleep(500 * time.Millisecond)
	if s := statsOf(l); s.PlaybackState != "playing" {
		t.Errorf("%s: after a listener's refused pause the party is %q", l.name, s.PlaybackState)
	}
}

// pauseBound is the pause check's ceiling: 3× the 500 ms goal, for a busy machine.
const pauseBound = 1500 * time.Millisecond

// checkPauseResume pauses on the host's page and checks that frames stop on
// every page, measuring the last frame's time after the click; then resumes.
func checkPauseResume(t *testing.T, host *Page, people []*Page) {
	t.Helper()
	var clickAt float64
	mustEval(host, `Date.now()`, &clickAt)
	act(host, "pause", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Pause"]`)))
	var stops []float64
	for _, p := range people {
		waitFor(p, "frames to stop", `window.__marquee.session.stats().then(s => s.playbackState === "paused" && Date.now() - s.lastFrameAtMs > 1500)`, 20*time.Second)
		s := statsOf(p)
		stops = append(stops, s.LastFrameAtMs-clickAt)
	}
	t.Logf("MEASURE pause: last frame shown after the click: %v ms (host, listeners; goal ≤ 500 ms)", roundAll(stops))
	// A behaviour check, not a micro-timing one: every picture freezes when
	// the pause is announced rather than playing out its buffer or running
	// on. The bound leaves room for a loaded machine's API → ingest path.
	for i, d := range stops {
		if d > pauseBound.Seconds()*1000 {
			t.Errorf("%s: frames went on %.0f ms after the host paused, want well under %v (goal 500 ms)", people[i].name, d, pauseBound)
		}
	}
	frames := make([]int, len(people))
	for i, p := range people {
		frames[i] = statsOf(p).FramesDecoded
	}
	// Resume with the keyboard: space toggles play and pause for controllers.
	mustEval(host, `document.activeElement && document.activeElement.blur()`, nil)
	act(host, "resume with space", 5*time.Second, chromedp.KeyEvent(" "))
	for i, p := range people {
		waitFor(p, "frames after resume", fmt.Sprintf(`window.__marquee.session.stats().then(s => s.playbackState === "playing" && s.framesDecoded > %d)`, frames[i]+20), 20*time.Second)
	}
}

// checkSeek seeks with the keyboard (→ is +10 s) and with the seek bar,
// and checks every page then shows the new position.
func checkSeek(t *testing.T, host *Page, people []*Page) {
	t.Helper()
	before := statsOf(host).PartyPositionMs
	mustEval(host, `document.activeElement && document.activeElement.blur()`, nil)
	act(host, "press →", 5*time.Second, chromedp.KeyEvent("\ue014")) // ArrowRight
	for _, p := range people {
		waitFor(p, "the +10 s seek", fmt.Sprintf(`window.__marquee.session.stats().then(s => s.displayed && s.displayed.positionMs > %f)`, before+8000), 20*time.Second)
	}
	mustEval(host, `(() => { const r = document.querySelector('input[aria-label="Seek"]'); r.value = "60"; r.dispatchEvent(new Event("input", {bubbles: true})); r.dispatchEvent(new Event("change", {bubbles: true})); })()`, nil)
	for _, p := range people {
		waitFor(p, "the seek to 1:00", `window.__marquee.session.stats().then(s => s.displayed && s.displayed.positionMs >= 59500 && s.displayed.positionMs < 66000 && Date.now() - s.lastFrameAtMs < 500)`, 20*time.Second)
	}
}

// checkReconnect cuts a listener's media by closing its peer connections
// and requires it to play again within 5 s.
func checkReconnect(t *testing.T, l *Page) {
	t.Helper()
	var closedAt float64
	mustEval(l, `(() => { const t = Date.now(); window.__pcs.forEach(pc => pc.close()); return t; })()`, &closedAt)
	waitFor(l, "playing again after the cut", fmt.Sprintf(`window.__marquee.session.stats().then(s => s.conn === "connected" && s.firstFrameSinceConnectAtMs > %f)`, closedAt), 20*time.Second)
	s := statsOf(l)
	resumed := *s.ResumedAtMs - closedAt
	t.Logf("MEASURE reconnect: %s played again %.0f ms after its peer connections were closed (reconnects=%d)", l.name, resumed, s.Reconnects)
	if resumed > 5000 {
		t.Errorf("%s: resumed %.0f ms after the cut, want < 5000 ms", l.name, resumed)
	}
	l.Screenshot("party-listener-reconnected")
}

func roundAll(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x + 0.5)
	}
	return out
}

func logStats(t *testing.T, name string, p *Page) pageStats {
	t.Helper()
	s := statsOf(p)
	t.Logf("%s: %s", name, s)
	return s
}

// median of a non-empty slice.
func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

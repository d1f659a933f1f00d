package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestWebappPages drives the pages around a party on one stack: getting
// back in after the one-time link (password prompt, "already used" page,
// sign-in with the password), the account menu, a show's seasons and an
// episode's breadcrumb, starting an album (its tracks in order), Stop then
// "Resume at" or "Start over", full screen, invites checked as the page
// opens (garbage, revoked, good: the party's name and poster), and a
// phone's stage during an SFU outage.
func TestWebappPages(t *testing.T) {
	st, loginLink := startStack(t)
	b := StartChrome(t)
	host := newPerson(t, b, "admin", 1280, 800)
	checkPasswordPrompt(t, host, loginLink)
	checkAccountMenuCloses(t, host)
	checkSpentLink(t, b, loginLink)

	for _, lib := range []string{"Movies", "Shows", "Music"} {
		act(host, "scan "+lib, 10*time.Second, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Scan library %s"]`, lib))))
		waitFor(host, lib+" scanned", `!document.querySelector(".scans button[disabled]")`, 60*time.Second)
	}
	checkShowPages(t, st, host)
	albumParty := checkAlbumStartResume(t, st, host)
	bo := newPerson(t, b, "bo", 390, 844)
	checkInvitePage(t, st, host, bo, albumParty)
	checkOutageOnPhone(t, st, host, bo)
}

// itemID finds a library item by kind and title through the API.
func itemID(t *testing.T, p *Page, kind, title string) int {
	t.Helper()
	var id int
	mustEval(p, fmt.Sprintf(`fetch("/api/items?kind=%s&q=%s").then(r => r.json()).then(d => (d.items ?? d).find(i => i.title === %q)?.id ?? 0)`, kind, title, title), &id)
	if id == 0 {
		t.Fatalf("no %s %q in the library", kind, title)
	}
	return id
}

// checkPasswordPrompt: the first sign-in by link asks for a password, which
// is then saved from the prompt.
func checkPasswordPrompt(t *testing.T, host *Page, loginLink string) {
	t.Helper()
	act(host, "open the login link", 20*time.Second, chromedp.Navigate(loginLink))
	waitFor(host, "the password prompt on the library", `!!document.querySelector(".library-page") && !!document.querySelector("[data-testid=password-prompt]")`, 20*time.Second)
	host.Screenshot("pages-password-prompt")
	act(host, "set a password", 20*time.Second,
		chromedp.SendKeys(chromedp.CSS(`input[name=newPassword]`), "popcorn-night"),
		chromedp.SendKeys(chromedp.CSS(`input[name=newPasswordAgain]`), "popcorn-night"),
		chromedp.Click(chromedp.CSS(`.password-prompt button[type=submit]`)))
	waitFor(host, "the password saved", `!!document.querySelector("[data-testid=password-saved]") && !document.querySelector("[data-testid=password-prompt]")`, 20*time.Second)
	var has bool
	mustEval(host, `fetch("/api/me").then(r => r.json()).then(u => u.hasPassword)`, &has)
	if !has {
		t.Fatal("the account has no password after the prompt")
	}
}

// checkAccountMenuCloses: Escape and a click outside close the account menu.
func checkAccountMenuCloses(t *testing.T, host *Page) {
	t.Helper()
	act(host, "open the account menu", 10*time.Second, chromedp.Click(chromedp.CSS(`.account-btn`)), chromedp.WaitVisible(chromedp.CSS(`.menu`)))
	var items string
	mustEval(host, `document.querySelector(".menu").innerText`, &items)
	if !strings.Contains(items, "Change password") {
		t.Errorf("account menu %q has no Change password", items)
	}
	act(host, "press Escape", 5*time.Second, chromedp.KeyEvent(kb.Escape))
	waitFor(host, "the menu closed by Escape", `!document.querySelector(".menu")`, 5*time.Second)
	act(host, "open the menu again", 10*time.Second, chromedp.Click(chromedp.CSS(`.account-btn`)), chromedp.WaitVisible(chromedp.CSS(`.menu`)))
	act(host, "click outside", 5*time.Second, chromedp.MouseClickXY(200, 700))
	waitFor(host, "the menu closed by an outside click", `!document.querySelector(".menu")`, 5*time.Second)
}

// checkSpentLink: someone opening the spent link on a phone is told it was
// used and how to get in, and gets in with the password.
func checkSpentLink(t *testing.T, b *Browser, loginLink string) {
	t.Helper()
	phone := newPerson(t, b, "admin-phone", 390, 844)
	act(phone, "open the spent login link", 20*time.Second, chromedp.Navigate(loginLink))
	waitFor(phone, "the sign-in page saying the link was used", `location.pathname === "/signin" && /already used/.test(document.querySelector("[data-testid=link-notice]")?.innerText) && /login-link/.test(document.querySelector("[data-testid=link-notice]").innerText)`, 20*time.Second)
	phone.Screenshot("pages-link-used-phone")
	act(phone, "sign in with the password", 20*time.Second,
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "popcorn-night"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitFor(phone, "the library after signing in", `!!document.querySelector(".library-page")`, 20*time.Second)
}

// checkShowPages: a show lists its seasons with their episodes, and an
// episode names its show and season above the title.
func checkShowPages(t *testing.T, st *stack, host *Page) {
	t.Helper()
	show := itemID(t, host, "show", "Sample Show")
	act(host, "open the show", 10*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, show)))
	waitFor(host, "seasons with episodes", `(t => t.includes("Season 1") && t.includes("Episode 1") && t.includes("Episode 2") && t.includes("Play the show"))(document.querySelector(".detail-page")?.innerText ?? "")`, 20*time.Second)
	host.Screenshot("pages-show")
	act(host, "open episode 1", 10*time.Second, chromedp.Click(chromedp.Search(`//a[contains(., "Episode 1")]`)))
	waitFor(host, "the episode's breadcrumb", `(t => t.includes("SAMPLE SHOW") && t.includes("SEASON 1"))((document.querySelector(".breadcrumb")?.innerText ?? "").toUpperCase()) && document.querySelector(".detail-page h1")?.innerText.includes("Episode 1")`, 20*time.Second)
	host.Screenshot("pages-episode")
}

// checkAlbumStartResume starts the album (both tracks queued in order),
// stops, resumes where it stopped, stops and starts over. It returns the
// party id, left stopped.
func checkAlbumStartResume(t *testing.T, st *stack, host *Page) int {
	t.Helper()
	album := itemID(t, host, "album", "First Light")
	act(host, "open the album", 10*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, album)))
	waitFor(host, "the album's play button", `document.querySelector(".detail-body .btn.primary")?.innerText.includes("Play the album")`, 20*time.Second)
	act(host, "play the album", 10*time.Second, chromedp.Click(chromedp.CSS(`.detail-body .btn.primary`)))
	waitFor(host, "the party page", `location.pathname.startsWith("/party/") && !!window.__marquee`, 20*time.Second)
	var id int
	mustEval(host, `window.__marquee.partyId`, &id)
	var titles string
	mustEval(host, `fetch("/api/parties/" + window.__marquee.partyId).then(r => r.json()).then(p => p.queue.map(e => e.title).join(" | "))`, &titles)
	if titles != "Dawn | Dusk" {
		t.Errorf("album queue = %q, want the tracks in order: Dawn | Dusk", titles)
	}
	act(host, "full screen", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Full screen"]`)))
	waitFor(host, "the stage in full screen", `document.fullscreenElement?.classList.contains("stage")`, 10*time.Second)
	host.Screenshot("pages-fullscreen")
	act(host, "leave full screen", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Exit full screen"]`)))
	waitFor(host, "full screen left", `!document.fullscreenElement`, 10*time.Second)

	playing := `window.__marquee.session.state.get().playback?.state === "playing"`
	waitFor(host, "3 s of music", playing+` && window.__marquee.session.partyPositionNow() > 3000`, 30*time.Second)
	act(host, "stop", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Stop"]`)))
	waitFor(host, "Resume at and Start over", `/Resume at 0:0[3-9]/.test(document.querySelector("[data-testid=resume-choice]")?.innerText) && document.querySelector("[data-testid=resume-choice]").innerText.includes("Start over")`, 20*time.Second)
	host.Screenshot("pages-resume-choice")
	act(host, "resume", 5*time.Second, chromedp.Click(chromedp.Search(`//button[contains(., "Resume at")]`)))
	waitFor(host, "playing from where it stopped", playing+` && window.__marquee.session.partyPositionNow() >= 3000`, 30*time.Second)
	act(host, "stop again", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Stop"]`)))
	act(host, "start over", 20*time.Second, chromedp.Click(chromedp.Search(`//button[contains(., "Start over")]`)))
	waitFor(host, "playing from the start", playing+` && window.__marquee.session.partyPositionNow() < 3000`, 30*time.Second)
	var status int
	mustEval(host, `fetch("/api/parties/" + window.__marquee.partyId + "/control", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({action: "stop"})}).then(r => r.status)`, &status)
	if status != 200 {
		t.Fatalf("stop the album party: status %d", status)
	}
	return id
}

// mintInvite makes a listener invite to party id from the host's page.
func mintInvite(t *testing.T, host *Page, id int) string {
	t.Helper()
	var tok string
	mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d/invites", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({role: "listener", expiresInSeconds: 3600})}).then(r => r.json()).then(i => i.token)`, id), &tok)
	if tok == "" {
		t.Fatal("no invite token")
	}
	return tok
}

// checkInvitePage: a garbage and a revoked invite say why at once, with no
// name form; a good one names the party and shows its poster.
func checkInvitePage(t *testing.T, st *stack, host, guest *Page, party int) {
	t.Helper()
	revoked := mintInvite(t, host, party)
	var status int
	mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d/invites", {method: "DELETE"}).then(r => r.status)`, party), &status)
	if status != 204 {
		t.Fatalf("revoke invites: status %d", status)
	}
	good := mintInvite(t, host, party)
	for _, tc := range []struct{ token, want string }{{"garbage-invite", "not valid"}, {revoked, "revoked"}} {
		act(guest, "open a "+tc.want+" invite", 20*time.Second, chromedp.Navigate(st.APIURL+"/join/"+tc.token))
		waitFor(guest, "the invite refused at once", fmt.Sprintf(`document.querySelector("[data-testid=invite-problem]")?.innerText.includes(%q) && !document.querySelector("input[name=displayName]")`, tc.want), 20*time.Second)
		guest.Screenshot("pages-invite-" + strings.ReplaceAll(tc.want, " ", "-") + "-phone")
	}
	act(guest, "open a good invite", 20*time.Second, chromedp.Navigate(st.APIURL+"/join/"+good))
	waitFor(guest, "the party's name and poster", `document.querySelector("[data-testid=invite-title]")?.innerText === "First Light" && (i => i && i.complete && i.naturalWidth > 0)(document.querySelector("img.join-poster")) && !!document.querySelector("input[name=displayName]")`, 20*time.Second)
	guest.Screenshot("pages-invite-good-phone")
}

// checkOutageOnPhone: a phone watching the film loses the SFU. Its stage
// then shows one clear banner that overlaps nothing, and no stale delay.
func checkOutageOnPhone(t *testing.T, st *stack, host, phone *Page) {
	t.Helper()
	film := itemID(t, host, "movie", "Big Clock")
	act(host, "open the film", 10*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, film)))
	act(host, "start a party", 10*time.Second, chromedp.WaitVisible(chromedp.CSS(`.detail-body .btn.primary`)), chromedp.Click(chromedp.CSS(`.detail-body .btn.primary`)))
	waitFor(host, "the film party", `location.pathname.startsWith("/party/") && !!window.__marquee`, 20*time.Second)
	var id int
	mustEval(host, `window.__marquee.partyId`, &id)
	tok := mintInvite(t, host, id)
	act(phone, "join the film party", 30*time.Second,
		chromedp.Navigate(st.APIURL+"/join/"+tok),
		chromedp.WaitVisible(chromedp.CSS(`input[name=displayName]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=displayName]`), "Bo"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitFor(phone, "the film with a measured delay", `window.__marquee && window.__marquee.session.stats().then(s => s.framesDecoded > 10) && !!document.querySelector("[data-testid=own-delay]")`, 60*time.Second)
	for _, p := range st.procs {
		if p.name == "sfu" {
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatalf("kill the SFU: %v", err)
			}
		}
	}
	waitFor(phone, "the outage banner without video", `!!document.querySelector("[data-testid=conn-banner]") && window.__marquee.session.state.get().conn !== "connected" && !window.__marquee.session.state.get().hasVideo`, 30*time.Second)
	phone.Screenshot("pages-outage-phone")
	var overlaps []string
	mustEval(phone, `(() => {
		const b = document.querySelector("[data-testid=conn-banner]").getBoundingClientRect();
		const hit = r => r.width > 0 && r.height > 0 && r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom;
		return [...document.querySelectorAll(".stage-waiting p, .stage-waiting .spinner, [data-testid=own-delay]")]
			.filter(e => hit(e.getBoundingClientRect())).map(e => e.className + ": " + e.innerText);
	})()`, &overlaps)
	if len(overlaps) > 0 {
		t.Errorf("the outage banner overlaps %q", overlaps)
	}
	var delay string
	mustEval(phone, `document.querySelector("[data-testid=own-delay]")?.innerText ?? ""`, &delay)
	if delay != "" {
		t.Errorf("during the outage the stage still shows %q", delay)
	}
}

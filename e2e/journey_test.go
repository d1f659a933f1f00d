package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebappJourney is the newcomer's evening of issue #12 as one scenario,
// through the web app's own buttons: the admin signs in with the first-start
// link and sets a password, scans, starts a party on the album, queues a
// film and an episode after it from the party page, invites a friend as
// co-host through the Invite dialog, opens a second tab, and the co-host
// queues from the search. The queue then plays music → film on every page
// without a reload, Stop offers "Start over", which restarts the film for
// everyone, and the episode follows.
func TestWebappJourney(t *testing.T) {
	st, loginLink := startStack(t)
	b := StartChrome(t)
	host := newPerson(t, b, "journey-host", 1280, 800)
	checkPasswordPrompt(t, host, loginLink)
	for _, lib := range []string{"Movies", "Shows", "Music"} {
		act(host, "scan "+lib, 10*time.Second, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Scan library %s"]`, lib))))
		waitFor(host, lib+" scanned", `!document.querySelector(".scans button[disabled]")`, 60*time.Second)
	}

	// An album party: its tracks queued in order.
	album := itemID(t, host, "album", "First Light")
	act(host, "open the album", 10*time.Second, chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, album)))
	waitFor(host, "the album's play button", `document.querySelector(".detail-body .btn.primary")?.innerText.includes("Play the album")`, 20*time.Second)
	act(host, "play the album", 10*time.Second, chromedp.Click(chromedp.CSS(`.detail-body .btn.primary`)))
	waitFor(host, "the album party", `location.pathname.startsWith("/party/") && !!window.__marquee`, 20*time.Second)
	var partyURL string
	mustEval(host, `location.href`, &partyURL)
	checkStep(t, host, 0, queueStep{title: "Dawn"})

	// The host queues a film and an episode after the album.
	queueFromSearch(t, host, "Big Clock", "Big Clock")
	queueFromSearch(t, host, "Episode 1", "Episode 1")

	// A friend joins through the Invite dialog, as co-host.
	act(host, "create a co-host invite", 10*time.Second,
		chromedp.Click(chromedp.CSS(`.invite > button`)),
		chromedp.WaitVisible(chromedp.CSS(`.popover`)),
		chromedp.SetValue(chromedp.CSS(`select[aria-label="Invite role"]`), "cohost"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('select[aria-label="Invite role"]').dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.Click(chromedp.CSS(`.popover .btn.primary`)))
	waitFor(host, "the invite link", `!!document.querySelector("[data-testid=invite-link]")?.value`, 10*time.Second)
	var link string
	mustEval(host, `document.querySelector("[data-testid=invite-link]").value`, &link)
	act(host, "close the invite dialog", 5*time.Second, chromedp.Click(chromedp.CSS(`.invite > button`)))
	cleo := newPerson(t, b, "journey-cleo", 1280, 800)
	act(cleo, "open the invite", 20*time.Second,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`input[name=displayName]`)))
	waitFor(cleo, "the party named on the join page", `document.querySelector("[data-testid=invite-title]")?.innerText === "First Light"`, 10*time.Second)
	act(cleo, "join", 20*time.Second,
		chromedp.SendKeys(chromedp.CSS(`input[name=displayName]`), "Cleo"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitFor(cleo, "the album as co-host", `window.__marquee && window.__marquee.role === "cohost"`, 30*time.Second)
	checkStep(t, cleo, 0, queueStep{title: "Dawn"})

	// The host opens a second tab: both stay connected, listed once.
	tab2 := otherTab(t, host, "journey-host-tab2", partyURL)
	checkStep(t, tab2, 0, queueStep{title: "Dawn"})
	for _, p := range []*Page{host, tab2, cleo} {
		waitFor(p, "Admin and Cleo listed once each", fmt.Sprintf(`%s === 1 && %s === 1`, peopleNamed("Admin"), peopleNamed("Cleo")), 15*time.Second)
	}
	for _, p := range []*Page{host, tab2} {
		if s := statsOf(p); s.Conn != "connected" || s.Reconnects != 0 {
			t.Errorf("%s: conn=%s reconnects=%d with two tabs open, want connected and 0", p.name, s.Conn, s.Reconnects)
		}
	}

	// The co-host queues from the search.
	queueFromSearch(t, cleo, "Episode 2", "Episode 2")
	var titles string
	mustEval(host, `fetch("/api/parties/" + window.__marquee.partyId).then(r => r.json()).then(p => p.queue.map(e => e.title).join(" | "))`, &titles)
	for _, want := range []string{"Dawn", "Dusk", "Big Clock", "Episode 1", "Episode 2"} {
		if !strings.Contains(titles, want) {
			t.Fatalf("queue %q lacks %q", titles, want)
		}
	}
	host.Screenshot("journey-queue")

	// The queue plays through music → film on every page.
	people := []*Page{host, tab2, cleo}
	steps := []queueStep{{title: "Dusk"}, {title: "Big Clock", colour: "red"}}
	skipTo := func(n int, step queueStep) {
		act(host, "skip to "+step.title, 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Skip to next in queue"]`)))
		for _, p := range people {
			checkStep(t, p, n, step)
		}
	}
	for n, step := range steps {
		skipTo(n+1, step)
	}

	// Stop the film well into it, then start it over: every page plays it
	// from the start, not from where it stopped (a resume would be at
	// least 8 s ahead of the time since the click).
	playing := `window.__marquee.session.state.get().playback?.state === "playing"`
	waitFor(host, "8 s of the film", playing+` && window.__marquee.session.partyPositionNow() > 8000`, 60*time.Second)
	act(host, "stop", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Stop"]`)))
	waitFor(host, "Resume at and Start over", `!!document.querySelector("[data-testid=resume-choice]") && document.querySelector("[data-testid=resume-choice]").innerText.includes("Start over")`, 20*time.Second)
	waitFor(host, "the stage saying it stopped, with no spinner", `(w => !!w && w.innerText.includes("Stopped") && !w.querySelector(".spinner"))(document.querySelector("[data-testid=stage-waiting]"))`, 10*time.Second)
	host.Screenshot("journey-stopped")
	var clickedMs float64
	mustEval(host, `Date.now()`, &clickedMs)
	act(host, "start over", 20*time.Second, chromedp.Click(chromedp.Search(`//button[contains(., "Start over")]`)))
	for _, p := range people {
		waitFor(p, "the film from the start", fmt.Sprintf(`%s && window.__marquee.session.partyPositionNow() < Date.now() - %f + 4000`, playing, clickedMs), 30*time.Second)
	}
	for _, p := range people {
		checkStep(t, p, len(steps)+1, queueStep{title: "Big Clock", colour: "red"})
	}

	// And on to the episode the host queued.
	skipTo(len(steps)+2, queueStep{title: "Episode 1", colour: "blue"})
}

// queueFromSearch types search into p's "Add from the library" box and adds
// the hit whose title is title.
func queueFromSearch(t *testing.T, p *Page, search, title string) {
	t.Helper()
	box := `input[aria-label="Search the library to add to the queue"]`
	add := fmt.Sprintf(`button[aria-label="Add %s to the queue"]`, title)
	act(p, "search "+search, 20*time.Second,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.value = ""; i.dispatchEvent(new Event("input", {bubbles: true})); })()`, box)),
		chromedp.SendKeys(chromedp.CSS(box), search),
		chromedp.WaitVisible(chromedp.CSS(add)),
		chromedp.Click(chromedp.CSS(add)))
	waitFor(p, title+" queued", fmt.Sprintf(`document.querySelector("[data-testid=queue]")?.innerText.includes(%q)`, title), 10*time.Second)
}

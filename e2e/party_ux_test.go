package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// signInHost opens the first-start login link in a new person's browser
// and scans every library through the API; it returns the page on the
// library.
func signInHost(t *testing.T, b *Browser, link string) *Page {
	t.Helper()
	host := newPerson(t, b, "host", 1280, 800)
	act(host, "open the login link", 20*time.Second, chromedp.Navigate(link))
	waitFor(host, "the library after the login link", `location.pathname === "/" && !!document.querySelector(".library-page")`, 20*time.Second)
	var n int
	mustEval(host, `(async () => {
		const libs = (await (await fetch("/api/libraries")).json()).libraries;
		for (const l of libs) {
			await fetch("/api/libraries/" + l.id + "/scan", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
			for (;;) {
				const p = await (await fetch("/api/libraries/" + l.id + "/scan")).json();
				if (p.state !== "queued" && p.state !== "running") break;
				await new Promise(r => setTimeout(r, 200));
			}
		}
		return libs.length;
	})()`, &n)
	if n == 0 {
		t.Fatal("no libraries to scan")
	}
	return host
}

// itemID finds a playable library item by title through the host's session.
func itemID(t *testing.T, p *Page, search string) int64 {
	t.Helper()
	var id int64
	mustEval(p, fmt.Sprintf(`fetch("/api/items?q=" + encodeURIComponent(%q) + "&kind=movie,episode,track").then(r => r.json()).then(j => j.items.length ? j.items[0].id : 0)`, search), &id)
	if id == 0 {
		t.Fatalf("no library item matches %q", search)
	}
	return id
}

// TestWebappPartyWorkerDown starts a party while the media worker is not
// running (issue #12 item 3): the host's page says, at the top and on the
// first attempt, what happened and what to do; the details are in the
// server log with the party id, not in the headline; the host is never
// told to wait for the host.
func TestWebappPartyWorkerDown(t *testing.T) {
	st, link := startStackWith(t, stackOptions{noIngest: true})
	b := StartChrome(t)
	host := signInHost(t, b, link)
	film := itemID(t, host, "clock")

	act(host, "open the film", 20*time.Second,
		chromedp.Navigate(fmt.Sprintf("%s/items/%d", st.APIURL, film)),
		chromedp.WaitVisible(chromedp.CSS(`.detail-body .btn.primary`)))
	var clickedAt float64
	mustEval(host, `Date.now()`, &clickedAt)
	act(host, "start a party", 10*time.Second, chromedp.Click(chromedp.CSS(`.detail-body .btn.primary`)))
	// Promptly: a refused connection is known at once (bound for a loaded machine).
	waitFor(host, "the headline", `document.querySelector("[data-testid=party-problem]")?.innerText.includes("The media worker did not answer")`, 10*time.Second)
	var shownAt float64
	mustEval(host, `Date.now()`, &shownAt)
	t.Logf("MEASURE worker-down headline shown %.0f ms after the click on Start a party", shownAt-clickedAt)
	host.Screenshot("party-worker-down")

	var page struct {
		Headline    string  `json:"headline"`
		Top, Bottom float64 // the headline's box
		StageTop    float64 `json:"stageTop"`
		ViewHeight  float64 `json:"viewHeight"`
		Text        string  `json:"text"`
		PartyID     int64   `json:"partyId"`
	}
	mustEval(host, `(() => {
		const h = document.querySelector("[data-testid=party-problem]").getBoundingClientRect();
		return {headline: document.querySelector("[data-testid=party-problem]").innerText, Top: h.top, Bottom: h.bottom,
			stageTop: document.querySelector(".stage").getBoundingClientRect().top, viewHeight: innerHeight,
			text: document.body.innerText, partyId: window.__marquee.partyId};
	})()`, &page)
	if !strings.Contains(page.Headline, "check that cmd/ingest is running (./scripts/run.sh starts it)") {
		t.Errorf("headline %q does not say what to do", page.Headline)
	}
	for _, detail := range []string{"127.0.0.1", "POST", "dial tcp", "ingest worker:"} {
		if strings.Contains(page.Headline, detail) {
			t.Errorf("headline %q carries the detail %q", page.Headline, detail)
		}
	}
	if page.Bottom > page.ViewHeight || page.Top > page.StageTop {
		t.Errorf("headline at %.0f–%.0f px (stage at %.0f, view %.0f px): want it at the top, above the stage", page.Top, page.Bottom, page.StageTop, page.ViewHeight)
	}
	if strings.Contains(page.Text, "Waiting for the host") {
		t.Errorf("the host's page says %q", "Waiting for the host to start")
	}
	// The details are in the server log, with the party id.
	waitLog(t, st.api, regexp.MustCompile(fmt.Sprintf(`"msg":"worker command failed".*"party":%d,.*connection refused`, page.PartyID)), 5*time.Second)

	// A second attempt says the same, in words.
	act(host, "try again", 10*time.Second, chromedp.Click(chromedp.Search(`//div[@data-testid="party-problem"]//button[contains(., "Try again")]`)))
	waitFor(host, "the second attempt's headline", `document.querySelector("[data-testid=party-problem]")?.innerText.startsWith("Could not start playback. The media worker did not answer")`, 10*time.Second)
	host.Screenshot("party-worker-down-again")
}

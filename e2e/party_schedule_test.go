package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestScheduledPartyCountdown: an invitee opening a scheduled party's link
// sees a countdown to its start, and again on the party page after joining.
func TestScheduledPartyCountdown(t *testing.T) {
	st, loginLink := startStackWith(t, stackOptions{noIngest: true})
	b := StartChrome(t)
	host := newPerson(t, b, "admin", 1280, 800)
	act(host, "open the login link", 20*time.Second, chromedp.Navigate(loginLink))
	waitFor(host, "the library", `!!document.querySelector(".library-page")`, 20*time.Second)
	var id int
	mustEval(host, `fetch("/api/parties", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({title: "Premiere night", startsAtMs: Date.now() + (2 * 3600 + 5 * 60) * 1000})}).then(r => r.json()).then(p => p.id)`, &id)
	if id == 0 {
		t.Fatal("the scheduled party was not created")
	}
	tok := mintInvite(t, host, id)

	guest := newPerson(t, b, "bo", 390, 844)
	act(guest, "open the invite", 20*time.Second, chromedp.Navigate(st.APIURL+"/join/"+tok))
	waitFor(guest, "a countdown on the invite", `/^Starts in 2:0[45]:\d\d/.test(document.querySelector("[data-testid=countdown]")?.innerText ?? "")`, 20*time.Second)
	guest.Screenshot("party-schedule-invite-phone")
	act(guest, "join", 20*time.Second,
		chromedp.SendKeys(chromedp.CSS(`input[name=displayName]`), "Bo"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitFor(guest, "the countdown on the party page", `!!document.querySelector(".party-page") && /^Starts in 2:0[45]:\d\d/.test(document.querySelector("[data-testid=countdown]")?.innerText ?? "")`, 30*time.Second)
	guest.Screenshot("party-schedule-party-phone")

	act(host, "open the party", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/party/%d", st.APIURL, id)))
	waitFor(host, "the host's countdown", `/^Starts in/.test(document.querySelector("[data-testid=countdown]")?.innerText ?? "")`, 30*time.Second)
	host.Screenshot("party-schedule-host")

	// The host moves the start two days on, then clears it.
	act(host, "open the schedule editor", 10*time.Second, chromedp.Click(chromedp.CSS(`[data-testid=schedule-open]`)))
	mustEval(host, `(i => { const d = new Date(Date.now() + 2 * 86400e3 + 3600e3); const p = n => String(n).padStart(2, "0");
		i.value = d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes());
		i.dispatchEvent(new Event("input", {bubbles: true})); return true })(document.querySelector("input[name=startsAt]"))`, new(bool))
	host.Screenshot("party-schedule-editor")
	act(host, "save the new start", 10*time.Second, chromedp.Click(chromedp.Search(`//form[contains(@class,"schedule-editor")]//button[.="Save"]`)))
	waitFor(host, "the countdown in days", `/^Starts in 2 d 0 h/.test(document.querySelector("[data-testid=countdown]")?.innerText ?? "")`, 20*time.Second)
	act(host, "reopen the editor", 10*time.Second, chromedp.Click(chromedp.CSS(`[data-testid=schedule-open]`)))
	act(host, "clear the start", 10*time.Second, chromedp.Click(chromedp.Search(`//form[contains(@class,"schedule-editor")]//button[.="Clear"]`)))
	waitFor(host, "no countdown", `!document.querySelector("[data-testid=countdown]") && document.querySelector("[data-testid=schedule-open]")?.innerText === "Schedule"`, 20*time.Second)
}

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// TestListenerCannotImpersonateIngest (issue #13.1): a listener takes the
// SFU token the API gives every member, joins with server-sdk-go claiming
// marquee.role=ingest (in the join request and in an update), and sends a
// paused playback report dated far in the future. The host's page, the
// victim, keeps playing; the real pause that follows still freezes it.
func TestListenerCannotImpersonateIngest(t *testing.T) {
	_, loginLink := startStack(t)
	b := StartChrome(t)
	host := newPerson(t, b, "host", 1280, 800)
	act(host, "open the login link", 20*time.Second, chromedp.Navigate(loginLink))
	waitFor(host, "the library", `!!document.querySelector(".library-page")`, 20*time.Second)
	act(host, "scan Movies", 10*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Scan library Movies"]`)))
	waitFor(host, "Movies scanned", `!document.querySelector(".scans button[disabled]")`, 60*time.Second)
	waitFor(host, "the film's card", `[...document.querySelectorAll(".card")].some(c => c.textContent.includes("Big Clock"))`, 20*time.Second)
	mustEval(host, `[...document.querySelectorAll(".card")].find(c => c.textContent.includes("Big Clock")).click()`, nil)
	waitFor(host, "the detail page", `!!document.querySelector(".detail-body .btn.primary")`, 10*time.Second)
	act(host, "start a party", 10*time.Second, chromedp.Click(chromedp.CSS(`.detail-body .btn.primary`)))
	waitFor(host, "host frames", `location.pathname.startsWith("/party/") && !!window.__marquee && window.__marquee.session.stats().then(s => s.framesDecoded > 10 && s.playbackState === "playing")`, 60*time.Second)

	// Mallory joins through an invite like any listener, takes her SFU
	// token from the API, and leaves the page so the SDK can use it.
	act(host, "create an invite", 10*time.Second,
		chromedp.Click(chromedp.CSS(`.invite > button`)),
		chromedp.WaitVisible(chromedp.CSS(`.popover`)),
		chromedp.Click(chromedp.CSS(`.popover .btn.primary`)))
	waitFor(host, "the invite link", `!!document.querySelector("[data-testid=invite-link]")?.value`, 10*time.Second)
	var link string
	mustEval(host, `document.querySelector("[data-testid=invite-link]").value`, &link)
	act(host, "close the invite dialog", 5*time.Second, chromedp.Click(chromedp.CSS(`.invite > button`)))
	mallory := newPerson(t, b, "mallory", 800, 600)
	act(mallory, "join as a listener", 20*time.Second,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`input[name=displayName]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=displayName]`), "Mallory"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	waitFor(mallory, "the party page", `location.pathname.startsWith("/party/") && !!window.__marquee`, 30*time.Second)
	var access struct{ URL, Token, Identity, Role string }
	mustEval(mallory, `fetch("/api/parties/" + window.__marquee.partyId + "/token", {method: "POST"}).then(r => r.json())`, &access)
	if access.Role != "listener" || access.Token == "" {
		t.Fatalf("listener access %+v", access)
	}
	act(mallory, "leave the page", 10*time.Second, chromedp.Navigate("about:blank"))

	claim := map[string]string{roomconv.AttrRole: roomconv.RoleIngest}
	attacker, err := lksdk.ConnectToRoomWithToken(access.URL, access.Token, lksdk.NewRoomCallback(),
		lksdk.WithAutoSubscribe(false), lksdk.WithExtraAttributes(claim))
	if err != nil {
		t.Fatalf("the listener's SDK join: %v", err)
	}
	defer attacker.Disconnect()
	forged, _ := json.Marshal(map[string]any{"type": "playback", "itemId": "x", "title": "Frozen", "state": "paused",
		"positionMs": 0, "durationMs": 1, "sentAtMs": 9e15})
	attacker.LocalParticipant.SetAttributes(map[string]string{roomconv.AttrRole: roomconv.RoleIngest, roomconv.AttrPlayback: string(forged)})
	for range 3 {
		if err := attacker.LocalParticipant.PublishDataPacket(lksdk.UserData(forged),
			lksdk.WithDataPublishTopic(roomconv.TopicPlayback), lksdk.WithDataPublishReliable(true)); err != nil {
			t.Fatalf("publish the forged report: %v", err)
		}
	}

	// The host's picture goes on: frames keep coming and the state stays
	// the ingest's (a behaviour check over a few seconds of playback).
	start := statsOf(host)
	time.Sleep(3 * time.Second)
	after := statsOf(host)
	host.Screenshot("impersonation-victim")
	if after.PlaybackState != "playing" || after.FramesDecoded < start.FramesDecoded+20 {
		t.Fatalf("after the forged pause the host's page is %q with frames %d → %d", after.PlaybackState, start.FramesDecoded, after.FramesDecoded)
	}
	var title string
	mustEval(host, `document.querySelector(".party-title h1").innerText`, &title)
	if strings.Contains(title, "Frozen") {
		t.Fatalf("the page took the forged report's title %q", title)
	}

	// The real ingest's later reports are not locked out by the forged date.
	act(host, "pause", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Pause"]`)))
	waitFor(host, "the real pause", `window.__marquee.session.stats().then(s => s.playbackState === "paused")`, 20*time.Second)
	frames := statsOf(host).FramesDecoded
	act(host, "resume", 5*time.Second, chromedp.Click(chromedp.CSS(`button[aria-label="Play"]`)))
	waitFor(host, "frames after resume", fmt.Sprintf(`window.__marquee.session.stats().then(s => s.playbackState === "playing" && s.framesDecoded > %d)`, frames+20), 20*time.Second)
}

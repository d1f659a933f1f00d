package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// itemColourJS names the colour of the top-left corner of the frame the
// page's <video> shows now (the sample media's per-item colour, see
// clockFilter): "red" for the film, "blue" for an episode, "" when the
// element shows nothing.
const itemColourJS = `(() => {
  const v = document.querySelector("video.stage-video");
  if (!v || v.hidden || !v.videoWidth || v.readyState < 2) return "";
  const c = document.createElement("canvas");
  c.width = 48; c.height = 27;
  const g = c.getContext("2d", { willReadFrequently: true });
  g.drawImage(v, 0, 0, c.width, c.height);
  const [r, gr, b] = g.getImageData(3, 2, 1, 1).data;
  if (r > 150 && gr < 100 && b < 100) return "red";
  if (b > 150 && r < 100 && gr < 100) return "blue";
  return "other";
})()`

// queueStep is one item of the mixed queue and what every page must show.
type queueStep struct {
	title  string // the queue entry's title
	colour string // the decoded frames' corner colour; "" for audio only
}

// TestWebappMixedQueue plays a queue that changes media kind at every
// step: film → album track → episode → album track → film. The ingest
// unpublishes and republishes its video between them (another ladder, or
// none), and on all three pages (host and two listeners) the decoded frames
// must follow without a reload: the item's colour on fresh frames for video,
// the audio view and no video track for music.
func TestWebappMixedQueue(t *testing.T) {
	st, loginLink := startStack(t)
	b := StartChrome(t)
	host := newPerson(t, b, "host", 1280, 800)
	act(host, "open the login link", 20*time.Second, chromedp.Navigate(loginLink))
	waitFor(host, "the library", `!!document.querySelector(".library-page")`, 20*time.Second)
	for _, lib := range []string{"Movies", "Shows", "Music"} {
		act(host, "scan "+lib, 10*time.Second, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[aria-label="Scan library %s"]`, lib))))
		waitFor(host, lib+" scanned", `!document.querySelector(".scans button[disabled]")`, 60*time.Second)
	}

	// The party starts on the film; the rest of the queue follows.
	var ids struct{ Film, Dawn, Episode, Dusk int }
	mustEval(host, `(async () => {
	  const find = async (q, kind) => {
	    const j = await fetch("/api/items?limit=50&q=" + encodeURIComponent(q)).then(r => r.json());
	    const hits = (j.items || j).filter(i => i.kind === kind).sort((a, b) => a.title.localeCompare(b.title));
	    return hits.length ? hits[0].id : 0;
	  };
	  return {Film: await find("Big Clock", "movie"), Dawn: await find("Dawn", "track"),
	    Episode: await find("Episode", "episode"), Dusk: await find("Dusk", "track")};
	})()`, &ids)
	if ids.Film == 0 || ids.Dawn == 0 || ids.Episode == 0 || ids.Dusk == 0 {
		t.Fatalf("library items not found: %+v", ids)
	}
	var partyID int
	mustEval(host, fmt.Sprintf(`fetch("/api/parties", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({itemId: %d})}).then(r => r.json()).then(p => p.id)`, ids.Film), &partyID)
	for _, id := range []int{ids.Dawn, ids.Episode, ids.Dusk, ids.Film} {
		var status int
		mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d/queue", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({itemId: %d})}).then(r => r.status)`, partyID, id), &status)
		if status != 200 && status != 201 {
			t.Fatalf("enqueue item %d: status %d", id, status)
		}
	}
	var episodeTitle string
	mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d").then(r => r.json()).then(p => p.queue.find(e => e.mediaType === "episode").title)`, partyID), &episodeTitle)
	var status int
	mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d/control", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({action: "play"})}).then(r => r.status)`, partyID), &status)
	if status != 200 {
		t.Fatalf("play: status %d", status)
	}
	act(host, "open the party", 20*time.Second, chromedp.Navigate(fmt.Sprintf("%s/party/%d", st.APIURL, partyID)))
	waitFor(host, "the party page", `!!window.__marquee`, 20*time.Second)

	var link string
	mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d/invites", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({role: "listener", expiresInSeconds: 3600})}).then(r => r.json()).then(i => i.url)`, partyID), &link)
	if !strings.Contains(link, "/join/") {
		t.Fatalf("invite link %q", link)
	}
	people := []*Page{host, newPerson(t, b, "ada", 1280, 800), newPerson(t, b, "bo", 390, 844)}
	for i, p := range people[1:] {
		act(p, "join", 20*time.Second,
			chromedp.Navigate(link),
			chromedp.WaitVisible(chromedp.CSS(`input[name=displayName]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name=displayName]`), []string{"Ada", "Bo"}[i]),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	}

	steps := []queueStep{
		{title: "Big Clock", colour: "red"},
		{title: "Dawn"},
		{title: episodeTitle, colour: "blue"},
		{title: "Dusk"},
		{title: "Big Clock", colour: "red"},
	}
	for n, step := range steps {
		if n > 0 {
			var status int
			mustEval(host, fmt.Sprintf(`fetch("/api/parties/%d/control", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({action: "skip"})}).then(r => r.status)`, partyID), &status)
			if status != 200 {
				t.Fatalf("skip to %s: status %d", step.title, status)
			}
		}
		for _, p := range people {
			checkStep(t, p, n, step)
		}
	}
}

// checkStep waits until p shows step: its title on the stage or party
// header, and fresh frames of the item's colour, or the audio view without
// a video track.
func checkStep(t *testing.T, p *Page, n int, step queueStep) {
	t.Helper()
	name := fmt.Sprintf("step%d-%s-%s", n+1, strings.ReplaceAll(strings.ToLower(step.title), " ", "-"), p.name)
	if step.colour == "" {
		waitFor(p, step.title+" as music, with no video track", fmt.Sprintf(`(() => {
		  const card = document.querySelector(".audio-card"), v = document.querySelector("video.stage-video");
		  const st = window.__marquee.session.state.get();
		  return !!card && card.innerText.includes(%q) && v.hidden && !st.hasVideo && st.hasAudio &&
		    (!v.srcObject || v.srcObject.getVideoTracks().length === 0);
		})()`, step.title), 45*time.Second)
		p.Screenshot(name)
		return
	}
	shown := statsOf(p).FramesShown
	waitFor(p, fmt.Sprintf("fresh %s frames of %s", step.colour, step.title), fmt.Sprintf(
		`window.__marquee.session.stats().then(s => s.framesShown > %d + 10 && %s === %q && document.querySelector(".party-title h1")?.innerText.includes(%q) && !document.querySelector(".audio-card"))`,
		shown, itemColourJS, step.colour, step.title), 60*time.Second)
	p.Screenshot(name)
}

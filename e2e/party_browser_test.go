package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pcRecorder runs before the app in every page: it keeps each
// RTCPeerConnection the page makes, so a test can cut a viewer's media
// without reaching into livekit-client's internals.
const pcRecorder = `(() => {
  const Orig = window.RTCPeerConnection;
  if (!Orig || Orig.__marqueeWrapped) return;
  window.__pcs = [];
  const Wrapped = function (...args) { const pc = new Orig(...args); window.__pcs.push(pc); return pc; };
  Wrapped.prototype = Orig.prototype;
  Object.setPrototypeOf(Wrapped, Orig);
  Wrapped.__marqueeWrapped = true;
  window.RTCPeerConnection = Wrapped;
})();`

// autoplayPolicy makes a page behave like a browser that blocks autoplay
// with sound (Chromium's default policy; the shared test browser turns it
// off): play() of an unmuted element is refused until the person clicks.
const autoplayPolicy = `(() => {
  const play = HTMLMediaElement.prototype.play;
  let gesture = false;
  addEventListener("pointerdown", (e) => { if (e.isTrusted) gesture = true; }, true);
  addEventListener("keydown", (e) => { if (e.isTrusted) gesture = true; }, true);
  HTMLMediaElement.prototype.play = function () {
    if (!this.muted && !gesture) return Promise.reject(new DOMException("play() can only be initiated by a user gesture.", "NotAllowedError"));
    return play.call(this);
  };
})();`

// blockAutoplayWithSound applies autoplayPolicy to the page's next documents.
func blockAutoplayWithSound(p *Page) {
	p.t.Helper()
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: autoplayPolicy}); err != nil {
		p.t.Fatalf("%s: install autoplay policy: %v", p.name, err)
	}
}

// newPerson opens a tab in a browser context of its own (own cookies and
// storage: a separate person) in the shared Chromium, with the peer
// connection recorder installed and its console logged.
func newPerson(t testing.TB, b *Browser, name string, width, height int) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &Page{ctx: ctx, name: name, t: t}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("%s: open tab: %v", name, err)
	}
	if err := chromedp.Listen(ctx, p.onEvent); err != nil {
		t.Fatalf("%s: listen: %v", name, err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pcRecorder}); err != nil {
		t.Fatalf("%s: install recorder: %v", name, err)
	}
	return p
}

// act runs actions on the page with a bound, failing the test on error.
func act(p *Page, what string, within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.Screenshot(p.name + "-failed")
		p.t.Fatalf("%s: %s: %v", p.name, what, err)
	}
}

// waitFor polls a JS expression until truthy, within a bound on a hung test.
func waitFor(p *Page, what, expr string, within time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	p.t.Logf("%s: waiting for %s", p.name, what)
	p.WaitTrue(ctx, expr)
}

// mustEval is Eval that fails the test.
func mustEval(p *Page, js string, out any) {
	p.t.Helper()
	if err := p.Eval(js, out); err != nil {
		p.t.Fatal(err)
	}
}

// pageStats mirrors the web app's Stats (webapp/src/session.ts).
type pageStats struct {
	Conn            string  `json:"conn"`
	PlaybackState   string  `json:"playbackState"`
	FramesDecoded   int     `json:"framesDecoded"`
	FramesShown     int     `json:"framesShown"`
	LastFrameAtMs   float64 `json:"lastFrameAtMs"`
	AudioSamples    int64   `json:"audioSamples"`
	PartyPositionMs float64 `json:"partyPositionMs"`
	DelayMs         *float64
	Displayed       *struct {
		PositionMs float64 `json:"positionMs"`
		AtMs       float64 `json:"atMs"`
	} `json:"displayed"`
	JoinStartedAtMs float64  `json:"joinStartedAtMs"`
	FirstFrameAtMs  *float64 `json:"firstFrameAtMs"`
	ResumedAtMs     *float64 `json:"firstFrameSinceConnectAtMs"`
	Reconnects      int      `json:"reconnects"`
	BufferMs        float64  `json:"bufferMs"`
	OffsetMs        *float64 `json:"displayedOffsetMs"`
	TargetMs        float64  `json:"targetMs"`
	Layer           string   `json:"layer"`
	NowMs           float64  `json:"nowMs"`
}

// statsOf reads the page's live session stats.
func statsOf(p *Page) pageStats {
	p.t.Helper()
	var s pageStats
	mustEval(p, `(async () => { const s = await window.__marquee.session.stats(); return {...s, DelayMs: s.delayMs, nowMs: Date.now()}; })()`, &s)
	return s
}

func (s pageStats) String() string {
	pos := "-"
	if s.Displayed != nil {
		pos = fmt.Sprintf("%.0f", s.Displayed.PositionMs)
	}
	delay := "-"
	if s.DelayMs != nil {
		delay = fmt.Sprintf("%.0f", *s.DelayMs)
	}
	return fmt.Sprintf("conn=%s state=%s frames=%d shown=%d audio=%d pos=%s delay=%s target=%.0f buffer=%.0f layer=%s", s.Conn, s.PlaybackState, s.FramesDecoded, s.FramesShown, s.AudioSamples, pos, delay, s.TargetMs, s.BufferMs, s.Layer)
}

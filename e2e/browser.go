// Package e2e holds Marquee's browser tests and the small harness they
// share: a headless Debian Chromium driven by chromedp, pages that run test
// JavaScript, screenshots saved under e2e/artifacts/, and the npm packages
// (livekit-client) installed in e2e/node_modules by `make test`.
//
// Typical use in a test:
//
//	b := e2e.StartChrome(t)             // one browser, closed by t.Cleanup
//	p := b.NewPage(t, "viewer", pageURL) // a tab; console goes to t.Log
//	p.Eval(`start(...)`, nil)            // promises are awaited
//	p.WaitTrue(ctx, `state.frames > 10`)
//	p.Screenshot("viewer-playing")       // e2e/artifacts/viewer-playing.png
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	goruntime "runtime"
)

// ChromiumPath is Debian's Chromium, installed by scripts/deps.sh.
const ChromiumPath = "/usr/bin/chromium"

// chromeFlags make headless Chromium a sealed WebRTC peer on loopback:
// no mDNS-obfuscated host candidates, loopback allowed, no background
// traffic, a fake camera and microphone for getUserMedia.
var chromeFlags = map[string]any{
	"headless":                               true,
	"no-sandbox":                             true,
	"disable-gpu":                            true,
	"disable-quic":                           true,
	"no-first-run":                           true,
	"no-default-browser-check":               true,
	"disable-background-networking":          true,
	"disable-component-update":               true,
	"disable-sync":                           true,
	"allow-loopback-in-peer-connection":      true,
	"disable-features":                       "WebRtcHideLocalIpsWithMdns",
	"autoplay-policy":                        "no-user-gesture-required",
	"use-fake-ui-for-media-stream":           true,
	"use-fake-device-for-media-stream":       true,
	"disable-dev-shm-usage":                  true,
	"disable-renderer-backgrounding":         true,
	"disable-background-timer-throttling":    true,
	"disable-backgrounding-occluded-windows": true,
}

// Browser is one headless Chromium with a fresh profile.
type Browser struct {
	ctx    context.Context // chromedp browser context
	cancel context.CancelFunc
}

// Page is one tab.
type Page struct {
	ctx  context.Context
	name string
	t    testing.TB
}

// StartChrome launches Chromium for the test and closes it in t.Cleanup.
func StartChrome(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("chromium not found at %s (scripts/deps.sh installs it): %v", ChromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(ChromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 720)}
	for k, v := range chromeFlags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		t.Fatalf("start chromium: %v", err)
	}
	b := &Browser{ctx: bctx, cancel: func() { bcancel(); acancel() }}
	t.Cleanup(b.cancel)
	return b
}

// NewPage opens url in a new tab named name; its console is logged to t.
func (b *Browser) NewPage(t testing.TB, name, url string) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &Page{ctx: ctx, name: name, t: t}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab %s: %v", name, err)
	}
	if err := chromedp.Listen(ctx, p.onEvent); err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: navigate %s: %v", name, url, err)
	}
	return p
}

func (p *Page) onEvent(ev any) {
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			} else {
				parts = append(parts, a.Description)
			}
		}
		p.t.Logf("[%s console.%s] %s", p.name, e.Type, strings.Join(parts, " "))
	case *cdpruntime.EventExceptionThrown:
		p.t.Logf("[%s exception] %s", p.name, e.ExceptionDetails.Text)
	}
}

// Eval runs JavaScript in the page, awaiting a returned promise, and
// decodes its JSON result into out (nil to ignore it).
func (p *Page) Eval(js string, out any) error {
	b, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("%s: eval %q: %w", p.name, short(js), err)
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

// WaitTrue polls the expression every 100 ms until it is truthy, or fails
// the test when ctx ends (a bound on a hung test, not a timing check).
func (p *Page) WaitTrue(ctx context.Context, expr string) {
	p.t.Helper()
	for {
		var ok bool
		err := p.Eval(fmt.Sprintf("Promise.resolve(%s).then(v => !!v)", expr), &ok)
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			p.Screenshot(p.name + "-timeout")
			p.t.Fatalf("%s: gave up waiting for %s (last error: %v)", p.name, expr, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Throttle limits the page's network as DevTools' throttling does: at
// most bytesPerSec down and up (-1: no limit) and latency before each
// response (CDP Network.emulateNetworkConditionsByRule, one global rule).
func (p *Page) Throttle(bytesPerSec float64, latency time.Duration) error {
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		return fmt.Errorf("%s: Network.enable: %w", p.name, err)
	}
	_, err := chromedp.Call(p.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Latency: float64(latency.Milliseconds()),
			DownloadThroughput: bytesPerSec, UploadThroughput: bytesPerSec}},
	})
	if err != nil {
		return fmt.Errorf("%s: throttle to %.0f B/s: %w", p.name, bytesPerSec, err)
	}
	return nil
}

// networkConditions are the parameters of CDP's
// Network.emulateNetworkConditions, deprecated upstream (cdproto no longer
// generates it) but the one call that also flips navigator.onLine and
// fires the online/offline events.
type networkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

var emulateNetworkConditions = cdp.Command[networkConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

// SetOffline cuts (or restores) the page's network with CDP network
// conditions; the page sees navigator.onLine change and the events. Where
// the browser no longer has Network.emulateNetworkConditions it uses its
// successors: the conditions by rule (service worker fetches included)
// and the navigator state override.
func (p *Page) SetOffline(offline bool) error {
	if _, err := chromedp.Call(p.ctx, network.Enable, network.EnableParams{}); err != nil {
		return fmt.Errorf("%s: Network.enable: %w", p.name, err)
	}
	_, err := chromedp.Call(p.ctx, emulateNetworkConditions, networkConditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
	if err == nil {
		return nil
	}
	sw := true
	if _, err := chromedp.Call(p.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &sw,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		return fmt.Errorf("%s: emulate offline=%v: %w", p.name, offline, err)
	}
	if _, err := chromedp.Call(p.ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		return fmt.Errorf("%s: override network state offline=%v: %w", p.name, offline, err)
	}
	return nil
}

// Screenshot saves the page as e2e/artifacts/<name>.png; failures are
// logged, not fatal, so they never hide the test's own result.
func (p *Page) Screenshot(name string) {
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p.t.Logf("screenshot saved: %s", path)
}

// Dir is the e2e package directory (where package.json lives).
func Dir() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Dir(file)
}

// ArtifactsDir is where screenshots go (ignored by git).
func ArtifactsDir() string { return filepath.Join(Dir(), "artifacts") }

// NodeModule returns the path of a file under e2e/node_modules, failing
// the test with the fix when the npm packages are not installed.
func NodeModule(t testing.TB, rel string) string {
	t.Helper()
	path := filepath.Join(Dir(), "node_modules", filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s is missing: run make test, it installs the npm packages (npm ci --prefix e2e)", path)
		}
		t.Fatal(err)
	}
	return path
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

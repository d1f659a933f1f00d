package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// abrPage plays the master playlist in hls.js in automatic quality, with a
// short buffer so that a change of bandwidth shows within a few segments,
// and records every LEVEL_SWITCHED.
const abrPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>marquee vod abr test</title></head>
<body style="margin:0;background:#111">
<video id="v" muted playsinline style="width:854px;height:480px;background:#000"></video>
<pre id="log" style="color:#eee;font:14px monospace"></pre>
<script src="/hls.js"></script>
<script>
window.fatal = null;
window.switches = [];
const v = document.getElementById("v");
const hls = new Hls({abrEwmaDefaultEstimate: 20e6, maxBufferLength: 6, maxMaxBufferLength: 8});
window.hls = hls;
hls.on(Hls.Events.ERROR, (e, d) => { console.log("hls error", d.type, d.details, d.fatal); if (d.fatal) window.fatal = d.details; });
hls.on(Hls.Events.LEVEL_SWITCHED, (e, d) => {
  const l = hls.levels[d.level];
  window.switches.push({level: d.level, bitrate: l.bitrate, height: l.height, at: v.currentTime});
  document.getElementById("log").textContent += "LEVEL_SWITCHED " + l.height + "p " + l.bitrate + " b/s at " + v.currentTime.toFixed(1) + " s\n";
});
hls.on(Hls.Events.MANIFEST_PARSED, () => v.play());
hls.loadSource(%q);
hls.attachMedia(v);
</script></body></html>`

// abrSource is a 30 s 854x480 H.264 + AAC film with film grain (so the
// encodes reach their bitrates), cached between runs.
func abrSource(t *testing.T) string {
	dir := filepath.Join(os.TempDir(), "marquee-e2e-abr", "v1")
	path := filepath.Join(dir, "movies", "Grain (2026)", "Grain (2026).mp4")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp.mp4"
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "30", "-vf", "noise=alls=10:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k",
		"-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", tmp).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v %s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// prewarm fetches every object of every rendition once, so the browser
// only ever reads the cache and encode speed plays no part.
func prewarm(t *testing.T, base, master string) {
	get := func(u string) []byte {
		resp, err := http.Get(base + u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
		}
		return b
	}
	for _, m := range uriLines(get(master)) {
		for _, o := range uriLines(get(m)) {
			get(o)
		}
	}
}

func uriLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if u, ok := strings.CutPrefix(l, `#EXT-X-MAP:URI="`); ok {
			out = append(out, strings.TrimSuffix(u, `"`))
		} else if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

type abrSwitch struct {
	Level   int     `json:"level"`
	Bitrate int     `json:"bitrate"`
	Height  int     `json:"height"`
	At      float64 `json:"at"`
}

// TestVODABRDropsUnderThrottling: hls.js in automatic quality starts on a
// higher rendition; throttled by CDP below that rendition's bitrate, it
// switches to a lower one (LEVEL_SWITCHED) and plays on from it.
func TestVODABRDropsUnderThrottling(t *testing.T) {
	film := abrSource(t)
	base, master := vodServer(t, filepath.Dir(filepath.Dir(filepath.Dir(film))), film, 2, abrPage)
	prewarm(t, base, master)

	b := StartChrome(t)
	p := b.NewPage(t, "vod-abr", base+"/")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p.WaitTrue(ctx, `window.fatal || (window.switches.length > 0 && v.currentTime > 1 && !v.paused)`)
	var levels []int
	if err := p.Eval(`hls.levels.map(l => l.bitrate).sort((a, b) => a - b)`, &levels); err != nil {
		t.Fatal(err)
	}
	var first abrSwitch
	if err := p.Eval(`window.switches[0]`, &first); err != nil {
		t.Fatal(err)
	}
	t.Logf("levels %v b/s; started on %+v", levels, first)
	if len(levels) < 2 || first.Bitrate <= levels[0] {
		t.Fatalf("hls.js started on %+v, want a rendition above the lowest of %v", first, levels)
	}
	p.Screenshot("vod-abr-high")

	// Below the starting rendition's bitrate, above the lowest's.
	limit := float64(levels[0]) * 1.4
	if limit >= float64(first.Bitrate) {
		t.Fatalf("no room between the lowest rendition (%d b/s) and the first (%d b/s)", levels[0], first.Bitrate)
	}
	if err := p.Throttle(limit/8, 40*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	t.Logf("throttled to %.0f b/s", limit)
	p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || window.switches.some(s => s.bitrate < %d)`, first.Bitrate))
	var down abrSwitch
	if err := p.Eval(fmt.Sprintf(`window.switches.find(s => s.bitrate < %d) || {}`, first.Bitrate), &down); err != nil {
		t.Fatal(err)
	}
	t.Logf("switched down: %+v", down)
	// Plays on from the lower rendition: its pictures reach the screen
	// and time moves on several seconds past them.
	p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || (hls.currentLevel >= 0 && hls.levels[hls.currentLevel].bitrate < %d && v.videoHeight < %d && !v.paused)`,
		first.Bitrate, first.Height))
	var at float64
	if err := p.Eval(`v.currentTime`, &at); err != nil {
		t.Fatal(err)
	}
	p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || v.currentTime > %g`, at+4))
	p.Screenshot("vod-abr-low")
	var end struct {
		Fatal  string  `json:"fatal"`
		Height int     `json:"height"`
		Time   float64 `json:"time"`
	}
	if err := p.Eval(`({fatal: window.fatal || "", height: v.videoHeight, time: v.currentTime})`, &end); err != nil {
		t.Fatal(err)
	}
	t.Logf("end: %+v", end)
	if end.Fatal != "" || end.Height >= first.Height {
		t.Fatalf("after throttling: %+v, want playback on a rendition below %dp", end, first.Height)
	}
}

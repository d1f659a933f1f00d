package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
	"github.com/prometheus/client_golang/prometheus"
)

const vodPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>marquee vod test</title></head>
<body style="margin:0;background:#111">
<video id="v" muted playsinline style="width:640px;height:360px;background:#000"></video>
<script src="/hls.js"></script>
<script>
window.fatal = null;
const v = document.getElementById("v");
// The rendition to lock to comes after the '#': "src" (remux) or "240p".
const want = location.hash.slice(1);
const hls = new Hls();
window.hls = hls;
hls.on(Hls.Events.ERROR, (e, d) => { console.log("hls error", d.type, d.details, d.fatal); if (d.fatal) window.fatal = d.details; });
hls.on(Hls.Events.MANIFEST_PARSED, () => {
  const i = hls.levels.findIndex(l => l.url[0].includes("/" + want + "/"));
  if (i < 0) { window.fatal = "no level " + want; return; }
  hls.currentLevel = i;
  window.level = i;
  v.play();
});
hls.loadSource(%q);
hls.attachMedia(v);
</script></body></html>`

// TestVODPlaysInHLSJS: hls.js in Chromium plays the sample film through
// vod's master and media playlists and fMP4 segments from the start,
// then after a seek to 1:10, then near the end of its 90 s.
func TestVODPlaysInHLSJS(t *testing.T) {
	lib := partyLibrary(t)
	film := filepath.Join(lib, "movies", "Big Clock (2026)", "Big Clock (2026).mp4")
	base, _ := vodServer(t, lib, film, 0, vodPage)
	b := StartChrome(t)
	for _, rend := range []string{"240p", "src"} {
		t.Run(rend, func(t *testing.T) { playHLS(t, b, base+"/#"+rend, rend) })
	}
}

// playHLS plays from the start, seeks to 1:10 and plays on, then seeks
// near the end and plays to it, with hls.js locked to one rendition.
func playHLS(t *testing.T, b *Browser, url, rend string) {
	p := b.NewPage(t, "vod-"+rend, url)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	playing := func(from float64) {
		t.Helper()
		p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || (v.currentTime > %g && !v.paused && !v.seeking && v.getVideoPlaybackQuality().totalVideoFrames > 0)`, from))
		var fatal string
		if err := p.Eval(`window.fatal || ""`, &fatal); err != nil || fatal != "" {
			t.Fatalf("hls.js fatal error %q (%v)", fatal, err)
		}
	}
	playing(3)
	p.Screenshot("vod-hlsjs-" + rend + "-start")
	if err := p.Eval(`v.currentTime = 70`, nil); err != nil {
		t.Fatal(err)
	}
	playing(72)
	p.Screenshot("vod-hlsjs-" + rend + "-seek-1m10")
	if err := p.Eval(`v.currentTime = 84`, nil); err != nil {
		t.Fatal(err)
	}
	p.WaitTrue(ctx, `window.fatal || v.ended || v.currentTime > 88`)
	p.Screenshot("vod-hlsjs-" + rend + "-end")
	var st struct {
		Fatal  string  `json:"fatal"`
		Width  int     `json:"width"`
		Frames int     `json:"frames"`
		Time   float64 `json:"time"`
		Level  string  `json:"level"`
	}
	if err := p.Eval(`({fatal: window.fatal || "", width: v.videoWidth, frames: v.getVideoPlaybackQuality().totalVideoFrames, time: v.currentTime, level: hls.levels[hls.currentLevel].url[0]})`, &st); err != nil {
		t.Fatal(err)
	}
	t.Logf("end state: %+v", st)
	if st.Fatal != "" || st.Width == 0 || st.Frames == 0 || !strings.Contains(st.Level, "/"+rend+"/") {
		t.Fatalf("playback ended badly: %+v", st)
	}
}

// vodServer serves film, under the library folder lib, as item 1 through
// a real vod service and handler (segments of segSeconds, or the default
// when 0), with hls.js at /hls.js and page at / (a format whose one verb
// takes the master playlist URL). It returns the base URL and the master
// playlist's signed path.
func vodServer(t *testing.T, lib, film string, segSeconds int, page string) (base, master string) {
	t.Helper()
	root, err := library.NewRoot(lib)
	if err != nil {
		t.Fatal(err)
	}
	cfg := vod.DefaultConfig()
	cfg.CacheDir = t.TempDir()
	if segSeconds > 0 {
		cfg.SegmentSeconds = segSeconds
	}
	svc, err := vod.New(cfg, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	signer, err := cdn.NewSigner([]byte("e2e-vod-url-secret"))
	if err != nil {
		t.Fatal(err)
	}
	h := vod.NewHandler(svc, signer, func(context.Context, int64) (vod.Opener, string, error) { return root, film, nil }, nil)
	hlsJS, err := os.ReadFile(NodeModule(t, "hls.js/dist/hls.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	master = h.MasterURL(1)
	mux := http.NewServeMux()
	mux.Handle(vod.Prefix, h)
	mux.HandleFunc("/hls.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(hlsJS)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, page, master)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, master
}

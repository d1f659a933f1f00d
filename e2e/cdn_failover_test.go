package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod"
	"github.com/prometheus/client_golang/prometheus"
)

const failoverPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>marquee cdn failover</title></head>
<body style="margin:0;background:#111">
<video id="v" muted playsinline style="width:640px;height:360px;background:#000"></video>
<script src="/hls.js"></script>
<script>
window.fatal = null;
const v = document.getElementById("v");
// A short buffer keeps hls.js fetching, so the node's death shows at once.
const hls = new Hls({maxBufferLength: 4, maxMaxBufferLength: 6, startLevel: 0, capLevelToPlayerSize: true});
window.hls = hls;
hls.on(Hls.Events.ERROR, (e, d) => { console.log("hls error", d.type, d.details, d.fatal); if (d.fatal) window.fatal = d.details; });
hls.on(Hls.Events.MANIFEST_PARSED, () => v.play());
hls.loadSource(%q);
hls.attachMedia(v);
</script></body></html>`

// failoverNodes is the registry as vod sees it: node id → signer and URL.
type failoverNodes map[string]struct {
	s   *cdn.Signer
	url string
}

func (f failoverNodes) SignerFor(id string) (*cdn.Signer, error) {
	if n, ok := f[id]; ok {
		return n.s, nil
	}
	return nil, errors.New("no such node")
}

func (f failoverNodes) NodeURL(_ context.Context, id string) (string, error) {
	if n, ok := f[id]; ok {
		return n.url, nil
	}
	return "", errors.New("no such node")
}

// TestHLSJSCarriesOnWhenItsCDNNodeDies: the master playlist lists each
// variant through node n1, then n2, then the origin (redundant variant
// streams); hls.js plays from n1, n1 dies mid-playback, and hls.js carries
// on from n2 without a fatal error.
func TestHLSJSCarriesOnWhenItsCDNNodeDies(t *testing.T) {
	lib := partyLibrary(t)
	root, err := library.NewRoot(lib)
	if err != nil {
		t.Fatal(err)
	}
	film := filepath.Join(lib, "movies", "Big Clock (2026)", "Big Clock (2026).mp4")
	cfg := vod.DefaultConfig()
	cfg.CacheDir = t.TempDir()
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
	const token = "e2e-node-origin-token"
	h.AllowOrigin(func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token })
	hlsJS, err := os.ReadFile(NodeModule(t, "hls.js/dist/hls.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(vod.Prefix, h)
	mux.HandleFunc("/hls.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(hlsJS)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, failoverPage, h.MasterURLVia(1, []string{"n1", "n2"}))
	})
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	ou, _ := url.Parse(api.URL)

	nodes := failoverNodes{}
	servers := map[string]*httptest.Server{}
	segs := map[string]*atomic.Int64{}
	for _, id := range []string{"n1", "n2"} {
		s, err := cdn.NewSigner([]byte("url-key-of-" + id + "-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		node, err := cdn.New(cdn.Params{Origin: ou, OriginToken: token, CacheDir: t.TempDir(), MaxBytes: 1 << 30, Signer: s})
		if err != nil {
			t.Fatal(err)
		}
		n := &atomic.Int64{}
		segs[id] = n
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, ".m4s") {
				n.Add(1)
			}
			node.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		servers[id] = srv
		nodes[id] = struct {
			s   *cdn.Signer
			url string
		}{s, srv.URL}
	}
	h.UseNodes(nodes, nodes)

	b := StartChrome(t)
	p := b.NewPage(t, "cdn-failover", api.URL+"/")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	playing := func(from float64) {
		t.Helper()
		p.WaitTrue(ctx, fmt.Sprintf(`window.fatal || (v.currentTime > %g && !v.paused && v.getVideoPlaybackQuality().totalVideoFrames > 0)`, from))
		var fatal string
		if err := p.Eval(`window.fatal || ""`, &fatal); err != nil || fatal != "" {
			t.Fatalf("hls.js fatal error %q (%v)", fatal, err)
		}
	}
	playing(5)
	p.Screenshot("cdn-failover-on-n1")
	if segs["n1"].Load() == 0 || segs["n2"].Load() != 0 {
		t.Fatalf("before the failure: %d segments from n1, %d from n2; want all from n1", segs["n1"].Load(), segs["n2"].Load())
	}
	var at float64
	_ = p.Eval(`v.currentTime`, &at)
	servers["n1"].CloseClientConnections()
	servers["n1"].Close() // n1 dies mid-playback
	t.Logf("n1 killed at %.1fs of playback", at)
	playing(at + 20)
	p.Screenshot("cdn-failover-on-n2")
	if segs["n2"].Load() == 0 {
		t.Fatalf("after n1 died hls.js played on but fetched nothing from n2")
	}
	t.Logf("segments: n1 %d, n2 %d", segs["n1"].Load(), segs["n2"].Load())
}

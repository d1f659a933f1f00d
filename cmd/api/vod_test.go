package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
	"github.com/marquee-party/marquee/internal/obs"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/party/workertest"
)

// vodApp is the real cmd/api app serving HTTP on loopback, with a scanned
// movies library holding the 10 s 1080p bench clip.
type vodApp struct {
	t     *testing.T
	base  string
	dir   string
	film  string
	cfg   apiConfig
	admin *http.Client
}

func startVODApp(t *testing.T, mutate func(*apiConfig)) *vodApp {
	dir := t.TempDir()
	film := filepath.Join(dir, "library", "movies", "Film (2020)", "Film (2020).mp4")
	if err := os.MkdirAll(filepath.Dir(film), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(testmedia.Generate(t, testmedia.Bench1080p))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(film, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	applyDev(&cfg)
	cfg.DataDir, cfg.Listen, cfg.PublicURL = dir, ln.Addr().String(), "http://"+ln.Addr().String()
	cfg.Library.Roots, cfg.Library.ScanOnStart = []string{filepath.Join(dir, "library")}, true
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	a, err := build(context.Background(), cfg, slog.New(slog.DiscardHandler), obs.NewRegistry(), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.handler}
	go func() { _ = srv.Serve(ln) }() // on the test's listener
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, part := range a.parts[1:] { // the party service's loop and the pruner
		wg.Add(1)
		go func() { defer wg.Done(); _ = part(ctx) }()
	}
	t.Cleanup(func() { _ = srv.Close(); cancel(); wg.Wait(); a.close() })
	va := &vodApp{t: t, base: cfg.PublicURL, dir: dir, film: film, cfg: cfg}
	va.admin = va.client()
	link := regexpLink(stdout.String())
	va.post(va.admin, "/api/auth/link", map[string]string{"token": link}, 200)
	return va
}

// regexpLink is the token of the first admin's login link on stdout.
func regexpLink(out string) string {
	i := strings.Index(out, "/login/")
	if i < 0 {
		return ""
	}
	return strings.Fields(out[i+len("/login/"):])[0]
}

func (va *vodApp) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 60 * time.Second}
}

func (va *vodApp) post(c *http.Client, path string, body any, want int) []byte {
	va.t.Helper()
	return va.send(c, "POST", path, body, want)
}

func (va *vodApp) send(c *http.Client, method, path string, body any, want int) []byte {
	va.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, va.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", va.base)
	return va.do(c, req, want)
}

func (va *vodApp) do(c *http.Client, req *http.Request, want int) []byte {
	va.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		va.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if want != 0 && resp.StatusCode != want {
		va.t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, want, out)
	}
	return out
}

// get fetches path (absolute URLs as they are) and returns status and body.
func (va *vodApp) get(c *http.Client, path string) (int, http.Header, []byte) {
	va.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = va.base + path
	}
	resp, err := c.Get(u)
	if err != nil {
		va.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

// itemID waits for the scan to list the film and returns its id.
func (va *vodApp) itemID() int64 { return va.itemIDs(1)[0] }

// itemIDs waits for the scan to list n items and returns their ids.
func (va *vodApp) itemIDs(n int) []int64 {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var out struct{ Items []struct{ ID int64 } }
		_, _, b := va.get(va.admin, "/api/items")
		if json.Unmarshal(b, &out) == nil && len(out.Items) >= n {
			var ids []int64
			for _, it := range out.Items {
				ids = append(ids, it.ID)
			}
			return ids
		}
		time.Sleep(100 * time.Millisecond)
	}
	va.t.Fatalf("the scan did not list %d items within 60 s", n)
	return nil
}

// playlistURIs returns a playlist's URIs (EXT-X-MAP first).
func playlistURIs(body []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		l := sc.Text()
		if u, ok := strings.CutPrefix(l, `#EXT-X-MAP:URI="`); ok {
			out = append(out, strings.TrimSuffix(u, `"`))
		} else if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// chain fetches the item's HLS URL, the master, the named rendition's
// media playlist and every object it lists; it returns the objects' URLs
// and bodies.
func (va *vodApp) chain(id int64, rendition string) ([]string, [][]byte) {
	va.t.Helper()
	var hls struct{ URL string }
	code, _, b := va.get(va.admin, fmt.Sprintf("/api/items/%d/hls", id))
	if code != 200 || json.Unmarshal(b, &hls) != nil {
		va.t.Fatalf("hls url: %d %s", code, b)
	}
	code, h, master := va.get(va.admin, hls.URL)
	if code != 200 || h.Get("Cache-Control") != "no-store" {
		va.t.Fatalf("master: %d %q %s", code, h.Get("Cache-Control"), master)
	}
	var media string
	for _, u := range playlistURIs(master) {
		if strings.Contains(u, "/"+rendition+"/") {
			media = u
		}
	}
	code, _, pl := va.get(va.admin, media)
	if code != 200 {
		va.t.Fatalf("media playlist %q: %d %s", media, code, pl)
	}
	objs := playlistURIs(pl)
	var bodies [][]byte
	for _, u := range objs {
		code, _, b := va.get(http.DefaultClient, u) // a signed URL needs no session
		if code != 200 {
			va.t.Fatalf("%s: %d %s", u, code, b)
		}
		bodies = append(bodies, b)
	}
	return objs, bodies
}

// TestVODThroughTheApp drives the real app over HTTP: the signed URL, the
// master and remux media playlists and every object; who may have the URL;
// traversal on every vod route; forged and expired signatures.
func TestVODThroughTheApp(t *testing.T) {
	va := startVODApp(t, nil)
	id := va.itemID()
	objs, bodies := va.chain(id, "src")
	if len(objs) < 3 || !bytes.Contains(bodies[0][:64], []byte("ftyp")) || !bytes.Contains(bodies[1][:64], []byte("moof")) {
		t.Fatalf("objects: %d, init starts %q, segment starts %q", len(objs), bodies[0][:16], bodies[1][:16])
	}

	// A member without access to the movies library: the item does not
	// exist for them (the API answers 404 rather than 403 so as not to
	// confirm it exists), and anonymous callers must sign in.
	var ann0 struct{ ID int64 }
	_ = json.Unmarshal(va.post(va.admin, "/api/users", map[string]string{"username": "ann", "password": "correct horse battery"}, 201), &ann0)
	va.send(va.admin, "PUT", fmt.Sprintf("/api/users/%d/libraries", ann0.ID), map[string]any{"all": false, "libraryIds": []int64{}}, 200)
	ann := va.client()
	va.post(ann, "/api/auth/login", map[string]string{"username": "ann", "password": "correct horse battery"}, 200)
	hlsPath := fmt.Sprintf("/api/items/%d/hls", id)
	if code, _, b := va.get(ann, hlsPath); code != http.StatusNotFound && code != http.StatusForbidden {
		t.Errorf("member without the library: %d %s, want 403 or 404", code, b)
	}
	if code, _, _ := va.get(va.client(), hlsPath); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", code)
	}

	// Traversal on every route, unsigned and signed with the server's own
	// key (so only the path checks stand between it and the disk). A
	// redirect to the cleaned path (net/http's ServeMux) leaves /api/hls/.
	noFollow := &http.Client{Jar: va.admin.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signer, _ := cdn.NewSigner([]byte(cdn.DevURLSecret))
	seg, _ := url.Parse(objs[1])
	parts := strings.Split(seg.Path, "/") // "", api, hls, id, ver, rend, set, k.m4s
	ver, rend, set := parts[4], parts[5], parts[6]
	sid := strconv.FormatInt(id, 10)
	attacks := []string{
		"/api/hls/" + sid + "/../../../etc/passwd",
		"/api/hls/%2e%2e/%2e%2e/etc/passwd",
		"/api/hls/" + sid + "/%2e%2e%2f%2e%2e%2fetc%2fpasswd/master.m3u8",
		"/api/hls//etc/passwd",
		"/api/hls/" + sid + "/" + ver + "/..%2f..%2f" + "/index.m3u8",
		"/api/hls/" + sid + "/" + ver + "/" + rend + "/%2e%2e/index.m3u8",
		"/api/hls/" + sid + "/" + ver + "/" + rend + "/" + set + "/..%2f..%2f..%2fetc%2fpasswd",
		"/api/hls/" + sid + "/" + ver + "/" + rend + "/" + set + "/%2Fetc%2Fpasswd",
		"/api/hls/" + sid + "/" + ver + "/" + rend + "/" + set + "/..",
		"/api/hls/" + sid + "/%2e%2e/" + rend + "/" + set + "/0.m4s",
		"/api/hls/" + sid + "/" + ver + "/" + rend + "/../../" + ver + "/" + rend + "/" + set + "/0.m4s",
		"/api/items/" + sid + "%2f..%2f1/hls",
		"/api/items/..%2f" + sid + "/hls",
	}
	for _, p := range attacks {
		for _, u := range []string{p, signer.Sign(p, time.Now().Add(time.Hour))} {
			req, _ := http.NewRequest("GET", va.base+u, nil)
			if strings.Contains(u, "%") { // keep the encoding as sent
				req.URL.Opaque = "//" + req.URL.Host + strings.SplitN(u, "?", 2)[0]
			}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if resp.StatusCode/100 == 3 && loc != "" {
				// ServeMux's redirect to the cleaned path: the signature
				// (of the path as sent) does not follow it.
				var code int
				code, _, b = va.get(va.admin, loc)
				if code == 200 && strings.HasPrefix(loc, "/api/") {
					t.Errorf("%s: redirected to %s, which served it", u, loc)
				}
			}
			switch {
			case bytes.Contains(b, []byte("root:")) || bytes.Contains(b, []byte("#EXTM3U")):
				t.Errorf("%s: %d served %.80q", u, resp.StatusCode, b)
			case resp.StatusCode/100 == 3:
			case resp.StatusCode != 400 && resp.StatusCode != 403 && resp.StatusCode != 404 && resp.StatusCode != 410:
				t.Errorf("%s: %d %q %.80s, want 400, 403, 404 or 410", u, resp.StatusCode, loc, b)
			}
		}
	}

	// Forged (another key) and expired signatures: 403 with a JSON error.
	foreign, _ := cdn.NewSigner([]byte("someone-elses-secret"))
	expired := signer.Sign(seg.Path, time.Now().Add(-time.Minute))
	for _, u := range []string{foreign.Sign(seg.Path, time.Now().Add(time.Hour)), expired} {
		code, h, b := va.get(http.DefaultClient, u)
		var e struct{ Code, Message string }
		if code != http.StatusForbidden || h.Get("Content-Type") != "application/json" || json.Unmarshal(b, &e) != nil || e.Message == "" {
			t.Errorf("%s: %d %q %s, want 403 with a JSON error", u, code, h.Get("Content-Type"), b)
		}
	}
	if _, _, b := va.get(http.DefaultClient, expired); !strings.Contains(string(b), `"code":"`+cdn.CodeSignatureExpired+`"`) {
		t.Errorf("expired URL's error is not %s: %s", cdn.CodeSignatureExpired, b)
	}
	if _, _, b := va.get(http.DefaultClient, foreign.Sign(seg.Path, time.Now().Add(time.Hour))); !strings.Contains(string(b), `"code":"`+cdn.CodeSignatureInvalid+`"`) {
		t.Errorf("forged URL's error is not %s: %s", cdn.CodeSignatureInvalid, b)
	}
}

// TestVODSymlinkOutOfRoot: once the film is a link leading out of the
// library root, its playlists are refused and nothing outside is read.
func TestVODSymlinkOutOfRoot(t *testing.T) {
	va := startVODApp(t, nil)
	id := va.itemID()
	outside := filepath.Join(t.TempDir(), "elsewhere.mp4")
	if err := os.Rename(va.film, outside); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, va.film); err != nil {
		t.Fatal(err)
	}
	var hls struct{ URL string }
	_, _, b := va.get(va.admin, fmt.Sprintf("/api/items/%d/hls", id))
	_ = json.Unmarshal(b, &hls)
	if code, _, body := va.get(va.admin, hls.URL); code == 200 || bytes.Contains(body, []byte("#EXTM3U")) {
		t.Fatalf("master of a film linked out of the root: %d %s", code, body)
	}
}

// TestVODCacheFullAndDiskFull: with vod.max_bytes at its 1 MiB minimum,
// below one remux segment of the 1080p film, every segment is still
// served whole and right (the cache evicts); with the cache on a full
// disk, segments are still served, and what was cached stays.
func TestVODCacheFullAndDiskFull(t *testing.T) {
	want := map[string][]byte{} // by object name, from an unbounded cache
	va := startVODApp(t, nil)
	objs, bodies := va.chain(va.itemID(), "src")
	for i, u := range objs {
		want[objName(u)] = bodies[i]
	}

	t.Run("tiny cache", func(t *testing.T) {
		va := startVODApp(t, func(c *apiConfig) { c.VOD.MaxBytes = 1 << 20 })
		id := va.itemID()
		for round := 0; round < 2; round++ { // cold, then after evictions
			objs, bodies := va.chain(id, "src")
			checkObjects(t, want, objs, bodies)
		}
		if n := dirBytes(t, filepath.Join(va.dir, "vod-cache")); n > 1<<20+8<<20 {
			t.Errorf("cache holds %d bytes with vod.max_bytes 1 MiB", n)
		}
	})

	t.Run("disk full", func(t *testing.T) {
		cache := t.TempDir()
		// A 600 KiB tmpfs: the init segments fit, no remux segment does.
		if out, err := execCommand("mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", cache); err != nil {
			t.Skipf("cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
		}
		t.Cleanup(func() { _, _ = execCommand("umount", cache) })
		va := startVODApp(t, func(c *apiConfig) { c.VOD.CacheDir = cache })
		id := va.itemID()
		for round := 0; round < 2; round++ {
			objs, bodies := va.chain(id, "src")
			checkObjects(t, want, objs, bodies)
		}
	})
}

func objName(u string) string {
	p, _, _ := strings.Cut(u, "?")
	return p[strings.LastIndexByte(p, '/')+1:]
}

func checkObjects(t *testing.T, want map[string][]byte, objs []string, bodies [][]byte) {
	t.Helper()
	for i, u := range objs {
		if w, ok := want[objName(u)]; !ok || !bytes.Equal(w, bodies[i]) {
			t.Errorf("%s: %d bytes differ from the %d an unbounded cache served", objName(u), len(bodies[i]), len(w))
		}
	}
}

func dirBytes(t *testing.T, dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

// TestVODPlaylistsPointAtTheCDN: with cdn.url set, the API serves the
// playlists (no-store) and lists segments on the node, signed with the
// shared secret; the node's origin fetch (bearer token, no query) works
// for segments only.
func TestVODPlaylistsPointAtTheCDN(t *testing.T) {
	const node = "http://cdn.example.test:8081"
	va := startVODApp(t, func(c *apiConfig) { c.CDN.URL = node })
	var hls struct{ URL string }
	_, _, b := va.get(va.admin, fmt.Sprintf("/api/items/%d/hls", va.itemID()))
	if err := json.Unmarshal(b, &hls); err != nil || !strings.HasPrefix(hls.URL, "/api/hls/") {
		t.Fatalf("hls url %q: the master playlist must come from the API", b)
	}
	_, _, master := va.get(va.admin, hls.URL)
	media := playlistURIs(master)[0]
	code, h, pl := va.get(va.admin, media)
	if code != 200 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("media playlist: %d %q", code, h.Get("Cache-Control"))
	}
	objs := playlistURIs(pl)
	signer, _ := cdn.NewSigner([]byte(va.cfg.CDN.URLSecret))
	for _, o := range objs {
		u, err := url.Parse(o)
		if err != nil || !strings.HasPrefix(o, node+"/api/hls/") {
			t.Fatalf("object %q is not on the CDN node %s", o, node)
		}
		req := &http.Request{URL: u}
		if err := signer.Verify(req, time.Now()); err != nil {
			t.Fatalf("%s: the node would refuse it: %v", o, err)
		}
	}
	seg, _ := url.Parse(objs[1])
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{seg.Path, va.cfg.CDN.OriginToken, 200},
		{seg.Path, "wrong-token", http.StatusForbidden},
		{strings.TrimPrefix(media, va.base), va.cfg.CDN.OriginToken, http.StatusForbidden}, // playlists need a signature
	} {
		p, _, _ := strings.Cut(c.path, "?")
		req, _ := http.NewRequest("GET", va.base+p, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		va.do(http.DefaultClient, req, c.want)
	}
}

// TestVODPartyGuest: a party guest (no library access) gets the HLS URL of
// the item their party plays now, and of nothing else; the URL then plays.
func TestVODPartyGuest(t *testing.T) {
	dev := defaultConfig()
	applyDev(&dev)
	worker, err := workertest.Start("127.0.0.1:0", dev.Worker.Secret, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(worker.Kill)
	va := startVODApp(t, func(c *apiConfig) {
		// A second film, and the fake worker speaking the worker contract.
		other := filepath.Join(c.Library.Roots[0], "movies", "Other (2021)", "Other (2021).mp4")
		if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(c.Library.Roots[0], "movies", "Film (2020)", "Film (2020).mp4"), other); err != nil {
			t.Fatal(err)
		}
		c.Worker.URL, c.Worker.Heartbeat = worker.URL(), time.Second
	})
	ids := va.itemIDs(2)
	var pv struct{ ID int64 }
	_ = json.Unmarshal(va.post(va.admin, "/api/parties", map[string]any{"itemId": ids[0]}, 201), &pv)
	var inv struct{ Token string }
	_ = json.Unmarshal(va.post(va.admin, fmt.Sprintf("/api/parties/%d/invites", pv.ID), map[string]any{"expiresInSeconds": 3600}, 201), &inv)
	guest := va.client()
	va.post(guest, "/api/join", map[string]string{"token": inv.Token, "displayName": "Gus"}, 200)
	hls := func(id int64) int {
		code, _, _ := va.get(guest, fmt.Sprintf("/api/items/%d/hls", id))
		return code
	}
	if code := hls(ids[0]); code != http.StatusNotFound {
		t.Errorf("guest before the party plays: %d, want 404", code)
	}
	va.post(va.admin, fmt.Sprintf("/api/parties/%d/control", pv.ID), map[string]string{"action": "play"}, 200)
	var url0 struct{ URL string }
	code, _, b := va.get(guest, fmt.Sprintf("/api/items/%d/hls", ids[0]))
	if code != 200 || json.Unmarshal(b, &url0) != nil {
		t.Fatalf("guest, the party's current item: %d %s", code, b)
	}
	if code := hls(ids[1]); code != http.StatusNotFound {
		t.Errorf("guest, another item: %d, want 404", code)
	}
	if code, _, b := va.get(http.DefaultClient, url0.URL); code != 200 || !bytes.Contains(b, []byte("#EXTM3U")) {
		t.Errorf("the guest's master URL: %d %s", code, b)
	}
}

package vod

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
)

type httpFixture struct {
	*fixture
	h   *Handler
	srv *httptest.Server
	now time.Time
}

func newHTTPFixture(t *testing.T, fx *fixture) *httpFixture {
	signer, err := cdn.NewSigner([]byte("vod-test-secret-0123"))
	if err != nil {
		t.Fatal(err)
	}
	hf := &httpFixture{fixture: fx, now: time.Now()}
	resolve := func(_ context.Context, id int64) (Opener, string, error) {
		if id != 7 {
			return nil, "", ErrNotFound
		}
		return fx.root, fx.path, nil
	}
	hf.h = NewHandler(fx.svc, signer, resolve, func() time.Time { return hf.now })
	hf.srv = httptest.NewServer(hf.h)
	t.Cleanup(hf.srv.Close)
	return hf
}

func (hf *httpFixture) fetch(path string) (*http.Response, []byte) {
	hf.t.Helper()
	resp, err := http.Get(hf.srv.URL + path)
	if err != nil {
		hf.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// uris returns a playlist's URI lines and #EXTINF durations.
func uris(body string) (lines []string, durs []float64) {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		l := sc.Text()
		if d, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			f, _ := strconv.ParseFloat(strings.TrimSuffix(d, ","), 64)
			durs = append(durs, f)
		} else if u, ok := strings.CutPrefix(l, "#EXT-X-MAP:URI=\""); ok {
			lines = append(lines, strings.TrimSuffix(u, "\""))
		} else if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines, durs
}

func TestHLSOverHTTP(t *testing.T) {
	hf := newHTTPFixture(t, newFixture(t, 0))
	resp, body := hf.fetch(hf.h.MasterURL(7))
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("master: %d %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
	}
	media, _ := uris(string(body))
	if len(media) != 2 || !strings.Contains(string(body), "RESOLUTION=320x240") || !strings.Contains(media[0], "/src/") {
		t.Fatalf("master playlist (want the remux rendition, then 240p):\n%s", body)
	}
	var objs []string
	for _, m := range media {
		resp, body = hf.fetch(m)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(string(body), "#EXT-X-PLAYLIST-TYPE:VOD") {
			t.Fatalf("media playlist: %d\n%s", resp.StatusCode, body)
		}
		var durs []float64
		objs, durs = uris(string(body))
		var sum float64
		for _, d := range durs {
			sum += d
		}
		if want := mediaDuration(t, hf.path); math.Abs(sum-want) > 1.0/23.976 {
			t.Errorf("%s: #EXTINF add up to %.4f s, the film is %.4f s", m, sum, want)
		}
		var init []byte
		for i, u := range objs {
			resp, b := hf.fetch(u)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", u, resp.StatusCode, b)
			}
			if i == 0 {
				init = b
				continue
			}
			p := probeSegment(t, init, b)
			for _, f := range p.Frames {
				if f.MediaType == "video" {
					if f.KeyFrame != 1 {
						t.Errorf("%s: segment %d does not start with a keyframe", m, i-1)
					}
					break
				}
			}
		}
	}

	// A CDN node's miss: no query, the origin bearer token. Objects only.
	hf.h.AllowOrigin(func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer node-token" })
	for _, c := range []struct {
		url  string
		want int
	}{{objs[1], 200}, {media[0], http.StatusForbidden}} {
		req, _ := http.NewRequest("GET", hf.srv.URL+strings.SplitN(c.url, "?", 2)[0], nil)
		req.Header.Set("Authorization", "Bearer node-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("origin fetch of %s: %d, want %d", c.url, resp.StatusCode, c.want)
		}
	}
	if resp, _ := hf.fetch(strings.SplitN(objs[1], "?", 2)[0]); resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned segment without the token: %d, want 403", resp.StatusCode)
	}
	hf.h.AllowOrigin(nil)

	// Refused: a URL past its expiry, one signed with another key, one
	// without a signature, and paths that try to leave the tree.
	hf.now = hf.now.Add(URLTTL + time.Hour)
	if resp, _ := hf.fetch(objs[1]); resp.StatusCode != http.StatusForbidden {
		t.Errorf("expired segment URL: %d, want 403", resp.StatusCode)
	}
	hf.now = time.Now()
	foreign, _ := cdn.NewSigner([]byte("someone-elses-secret"))
	if resp, _ := hf.fetch(foreign.Sign("/api/hls/7/master.m3u8", time.Now().Add(time.Hour))); resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign signature: %d, want 403", resp.StatusCode)
	}
	signer, _ := cdn.NewSigner([]byte("vod-test-secret-0123"))
	ver := strings.Split(media[0], "/")[4]
	for _, p := range []string{
		"/api/hls/7/../../../etc/passwd",
		"/api/hls/7/" + ver + "/240p/..%2f..%2f..%2fetc%2fpasswd",
		"/api/hls/7/" + ver + "/..%2f..%2f/0.m4s",
		"/api/hls/7/" + ver + "/240p/%2e%2e",
		"/api/hls/07/master.m3u8",
		"/api/hls/7/" + ver + "/240p/-1.m4s",
		"/api/hls/7/" + ver + "/240p/00.m4s",
		"/api/hls/8/master.m3u8",
	} {
		for _, u := range []string{p, signer.Sign(p, time.Now().Add(time.Hour))} {
			resp, b := hf.fetch(u)
			if resp.StatusCode == 200 || strings.Contains(string(b), "root:") {
				t.Errorf("%s: %d, want a refusal", u, resp.StatusCode)
			}
		}
	}
}

func TestCorruptRegionFailsOnlyItsSegments(t *testing.T) {
	fx := newFixture(t, 0)
	// Overwrite the middle of the file (the media data of segment 2 or so).
	b, err := os.ReadFile(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 2; i < len(b)/2+len(b)/10; i++ {
		b[i] = byte(i * 7)
	}
	if err := os.WriteFile(fx.path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	hf := newHTTPFixture(t, fx)
	_, body := hf.fetch(hf.h.MasterURL(7))
	media, _ := uris(string(body))
	// The transcoded rendition decodes the source (the remux rendition
	// copies packets and leaves damage to the player's decoder).
	_, body = hf.fetch(media[len(media)-1])
	objs, _ := uris(string(body))
	var ok, bad int
	var badURL string
	for _, u := range objs {
		resp, b := hf.fetch(u)
		switch resp.StatusCode {
		case 200:
			ok++
		case http.StatusUnprocessableEntity:
			bad++
			badURL = u
			var e map[string]string
			if json.Unmarshal(b, &e) != nil || e["code"] != "bad_source" || e["message"] == "" {
				t.Errorf("bad segment answer: %s", b)
			}
		default:
			t.Errorf("%s: %d %s", u, resp.StatusCode, b)
		}
	}
	t.Logf("%d good, %d failed", ok, bad)
	if bad == 0 || ok < 3 {
		t.Errorf("%d good and %d failed objects; want the corrupt region's segments to fail and the rest to play", ok, bad)
	}
	// Asked again, a failed segment answers the same without another try.
	if resp, _ := hf.fetch(badURL); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("failed segment asked again: %d", resp.StatusCode)
	}
	if got := testutilCount(fx, "source"); got != float64(bad) {
		t.Errorf("failure metric %v, want %d (each bad segment tried once)", got, bad)
	}
}

// TestSymlinkOutOfRootRefused: an item whose file is a link leading out of
// its library root is never opened.
func TestSymlinkOutOfRootRefused(t *testing.T) {
	fx := newFixture(t, 0)
	outside := film2397(t)
	link := fx.path + ".link.mp4"
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	fx.path = link
	hf := newHTTPFixture(t, fx)
	resp, b := hf.fetch(hf.h.MasterURL(7))
	if resp.StatusCode == 200 || strings.Contains(string(b), "#EXTM3U") {
		t.Fatalf("link out of the root: %d %s", resp.StatusCode, b)
	}
}

package vod

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/cdn"
)

// TestSegmentsThroughCDNNode runs a real CDN node (package cdn) in front of
// the handler: playlists come from the API, no-store; the segments they
// list point at the node, which fetches each from the origin once and
// serves the next viewer from its disk. Forged and expired URLs are refused
// at both.
func TestSegmentsThroughCDNNode(t *testing.T) {
	hf := newHTTPFixture(t, newFixture(t, 0))
	const token = "node-token-0123"
	hf.h.AllowOrigin(func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+token })
	var mu sync.Mutex
	fromOrigin := map[string]int{}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fromOrigin[r.URL.Path]++
		mu.Unlock()
		hf.h.ServeHTTP(w, r)
	}))
	t.Cleanup(origin.Close)
	ou, _ := url.Parse(origin.URL)
	signer, _ := cdn.NewSigner([]byte("vod-test-secret-0123"))
	node, err := cdn.New(cdn.Params{Origin: ou, OriginToken: token, CacheDir: t.TempDir(), MaxBytes: 1 << 30,
		Signer: signer, Now: func() time.Time { return hf.now }})
	if err != nil {
		t.Fatal(err)
	}
	edge := httptest.NewServer(node)
	t.Cleanup(edge.Close)
	hf.h.UseCDN(edge.URL + "/")

	resp, body := hf.fetch(hf.h.MasterURL(7))
	media, _ := uris(string(body))
	if resp.StatusCode != 200 || len(media) == 0 || strings.HasPrefix(media[0], edge.URL) {
		t.Fatalf("master (served by the API): %d\n%s", resp.StatusCode, body)
	}
	m := media[len(media)-1]
	resp, body = hf.fetch(m)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("media playlist: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	objs, _ := uris(string(body))
	for _, u := range objs {
		if !strings.HasPrefix(u, edge.URL+Prefix) {
			t.Fatalf("object URL %q does not point at the CDN node %s", u, edge.URL)
		}
	}
	for _, u := range objs[:3] { // init, segments 0 and 1
		first := getAbs(t, u)
		second := getAbs(t, u) // another viewer
		if first.code != 200 || second.code != 200 || !bytes.Equal(first.body, second.body) || len(first.body) == 0 {
			t.Fatalf("%s: %d then %d, %d and %d bytes", u, first.code, second.code, len(first.body), len(second.body))
		}
		if first.h.Get("X-Cache") != "MISS" || second.h.Get("X-Cache") != "HIT" {
			t.Errorf("%s: X-Cache %q then %q, want MISS then HIT", u, first.h.Get("X-Cache"), second.h.Get("X-Cache"))
		}
		if cc := second.h.Get("Cache-Control"); !strings.Contains(cc, "immutable") || second.h.Get("ETag") == "" {
			t.Errorf("%s: Cache-Control %q, ETag %q: want immutable with an ETag", u, cc, second.h.Get("ETag"))
		}
		p, _ := url.Parse(u)
		mu.Lock()
		n := fromOrigin[p.Path]
		mu.Unlock()
		if n != 1 {
			t.Errorf("%s fetched %d times from the origin, want 1", p.Path, n)
		}
	}

	// A foreign key's signature, and a URL past its expiry, at the node
	// and at the API (the same path asked of the origin directly).
	seg, _ := url.Parse(objs[2])
	foreign, _ := cdn.NewSigner([]byte("someone-elses-secret"))
	forged := foreign.Sign(seg.Path, hf.now.Add(time.Hour))
	for _, base := range []string{edge.URL, hf.srv.URL} {
		if r := getAbs(t, base+forged); r.code != http.StatusForbidden || !strings.Contains(string(r.body), `"code"`) {
			t.Errorf("%s: forged signature: %d %s, want 403 with a JSON error", base, r.code, r.body)
		}
	}
	hf.now = hf.now.Add(URLTTL + time.Hour)
	for _, base := range []string{edge.URL, hf.srv.URL} {
		if r := getAbs(t, base+seg.RequestURI()); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "expired") {
			t.Errorf("%s: expired URL: %d %s, want 403 saying it expired", base, r.code, r.body)
		}
	}
}

type got struct {
	code int
	h    http.Header
	body []byte
}

func getAbs(t *testing.T, u string) got {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return got{resp.StatusCode, resp.Header, b.Bytes()}
}

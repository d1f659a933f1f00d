package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
)

// TestPostersThroughTheCDN runs a real CDN node in front of the API: a
// poster request is redirected to a signed node URL, the node fetches the
// versioned poster from the API with its origin token, and serves it.
func TestPostersThroughTheCDN(t *testing.T) {
	w := newWorld(t, worldOpts{cdn: true})
	_, item := w.addItem("Edge")
	member, _ := w.user("mia", auth.RoleMember)

	get := func(c *client, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", path, nil)
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		res, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	res, body := get(member, fmt.Sprintf("%s/api/items/%d/poster", w.http.URL, item))
	if res.StatusCode != 200 || body != "\xff\xd8\xff\xe0JPEGDATA-Edge" {
		t.Fatalf("poster via CDN = %d %q", res.StatusCode, body)
	}
	final := res.Request.URL
	if !strings.HasPrefix(final.String(), w.cdnURL+"/api/posters/") || final.Query().Get("sig") == "" {
		t.Fatalf("served from %s", final)
	}
	if res, _ := get(member, final.String()); res.Header.Get("X-Cache") != "HIT" {
		t.Fatalf("second fetch X-Cache = %q", res.Header.Get("X-Cache"))
	}
	// The origin route: the node's token or a user who may see the item.
	origin := w.http.URL + final.Path
	if res, _ := get(w.bot("test-origin-token"), origin); res.StatusCode != 200 ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("origin fetch = %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	if res, _ := get(w.bot("wrong-token"), origin); res.StatusCode != 401 {
		t.Fatalf("origin with a wrong token = %d", res.StatusCode)
	}
	if res, _ := get(w.browser(), origin); res.StatusCode != 401 {
		t.Fatalf("anonymous origin fetch = %d", res.StatusCode)
	}
	if res, _ := get(w.bot("test-origin-token"), fmt.Sprintf("%s/api/posters/%d/old-version", w.http.URL, item)); res.StatusCode != 404 {
		t.Fatalf("outdated version = %d", res.StatusCode)
	}
	// A forged or tampered signature never reaches the origin.
	if res, _ := get(member, strings.Replace(final.String(), "sig=", "sig=x", 1)); res.StatusCode != 403 && res.StatusCode != 401 {
		t.Fatalf("tampered CDN URL = %d", res.StatusCode)
	}
	// ?direct=1 bypasses the CDN.
	if res, body := get(member, fmt.Sprintf("%s/api/items/%d/poster?direct=1", w.http.URL, item)); res.Request.URL.Host != strings.TrimPrefix(w.http.URL, "http://") || body == "" {
		t.Fatalf("direct poster from %s", res.Request.URL)
	}
}

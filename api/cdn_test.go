package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestExternalPosterLinks: a signed poster link (what Discord embeds get)
// opens without a session, for that one poster and until it expires; a
// tampered or moved signature does not. Without a CDN the link and the
// poster route stay on the API.
func TestExternalPosterLinks(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	w := newWorld(t, worldOpts{signOnly: true, now: clock})
	_, item := w.addItem("Linked")
	_, other := w.addItem("Other")
	ctx := context.Background()

	link, err := w.srv.ExternalPosterURL(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	const public = "http://marquee.test"
	if !strings.HasPrefix(link, public+"/api/posters/") {
		t.Fatalf("link %q is not on the API's public URL", link)
	}
	local := w.http.URL + strings.TrimPrefix(link, public)
	anon := w.browser()
	fetch := func(u string) (int, string) {
		t.Helper()
		res, err := anon.hc.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := fetch(local); code != 200 || body != "\xff\xd8\xff\xe0JPEGDATA-Linked" {
		t.Fatalf("signed link without a session = %d %q", code, body)
	}
	if code, _ := fetch(strings.Replace(local, "sig=", "sig=x", 1)); code != 401 {
		t.Fatalf("tampered signature = %d, want 401", code)
	}
	moved := strings.Replace(local, fmt.Sprintf("/api/posters/%d/", item), fmt.Sprintf("/api/posters/%d/", other), 1)
	if code, _ := fetch(moved); code != 401 {
		t.Fatalf("signature moved to another item = %d, want 401", code)
	}
	mu.Lock()
	now = now.Add(ExternalPosterTTL + 2*time.Hour)
	mu.Unlock()
	if code, _ := fetch(local); code != 401 {
		t.Fatalf("expired link = %d, want 401", code)
	}
	// With a key but no CDN node, the web app's poster route serves directly.
	member, _ := w.user("mo", auth.RoleMember)
	res, err := member.hc.Get(fmt.Sprintf("%s/api/items/%d/poster", w.http.URL, item))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Host != strings.TrimPrefix(w.http.URL, "http://") {
		t.Fatalf("poster without a CDN = %d from %s", res.StatusCode, res.Request.URL)
	}

	if _, err := newWorld(t, worldOpts{}).srv.ExternalPosterURL(ctx, item); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("ExternalPosterURL without a key = %v, want ErrNoSigner", err)
	}
}

package vod

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/cdn"
)

// fakeNodes gives each node its own URL key and base URL; "gone" is revoked.
type fakeNodes map[string]*cdn.Signer

func (f fakeNodes) SignerFor(id string) (*cdn.Signer, error) {
	if s := f[id]; s != nil {
		return s, nil
	}
	return nil, errors.New("no such node")
}

func (f fakeNodes) NodeURL(_ context.Context, id string) (string, error) {
	if f[id] == nil {
		return "", errors.New("no such node")
	}
	return "https://" + id + ".cdn.test/", nil
}

// TestMasterListsNodesThenOrigin: the master lists every variant for the
// first node, then the second, then the origin (redundant variant
// streams); each node's media playlist points at that node with URLs only
// that node's key verifies; a revoked node's playlist is 404, so the
// player moves on.
func TestMasterListsNodesThenOrigin(t *testing.T) {
	hf := newHTTPFixture(t, newFixture(t, 0))
	nodes := fakeNodes{}
	for _, id := range []string{"n1", "n2"} {
		s, err := cdn.NewSigner([]byte("url-key-of-" + id + "-0123456789"))
		if err != nil {
			t.Fatal(err)
		}
		nodes[id] = s
	}
	if u := hf.h.MasterURLVia(7, []string{"n1"}); u != hf.h.MasterURL(7) {
		t.Fatalf("per-node URLs before UseNodes: %s", u)
	}
	hf.h.UseNodes(nodes, nodes)

	resp, body := hf.fetch(hf.h.MasterURLVia(7, []string{"n1", "n2", "gone"}))
	media, _ := uris(string(body))
	if resp.StatusCode != 200 || len(media)%4 != 0 || len(media) == 0 {
		t.Fatalf("master: %d\n%s", resp.StatusCode, body)
	}
	per := len(media) / 4
	infs := strings.Count(string(body), "#EXT-X-STREAM-INF")
	if infs != len(media) {
		t.Fatalf("%d variants for %d URIs\n%s", infs, len(media), body)
	}
	for i, m := range media {
		want := []string{"/via/n1/", "/via/n2/", "/via/gone/", ""}[i/per]
		if (want == "" && strings.Contains(m, "/via/")) || (want != "" && !strings.Contains(m, want)) {
			t.Fatalf("variant %d is %s, want it through %q\n%s", i, m, want, body)
		}
	}
	// Same attributes per rendition across the copies: redundant streams.
	lines := strings.Split(string(body), "\n")
	var attrs []string
	for _, l := range lines {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF") {
			attrs = append(attrs, l)
		}
	}
	for i := range attrs {
		if attrs[i] != attrs[i%per] {
			t.Fatalf("variant %d's attributes %q differ from %q", i, attrs[i], attrs[i%per])
		}
	}

	for _, id := range []string{"n1", "n2"} {
		resp, body := hf.fetch(media[map[string]int{"n1": 0, "n2": per}[id]])
		objs, _ := uris(string(body))
		if resp.StatusCode != 200 || len(objs) < 2 {
			t.Fatalf("%s media: %d\n%s", id, resp.StatusCode, body)
		}
		other := map[string]string{"n1": "n2", "n2": "n1"}[id]
		for _, o := range objs[:2] {
			if !strings.HasPrefix(o, "https://"+id+".cdn.test"+Prefix) {
				t.Fatalf("%s object URL %s", id, o)
			}
			u, _ := url.Parse(o)
			req := &http.Request{URL: u}
			if err := nodes[id].Verify(req, hf.now); err != nil {
				t.Fatalf("%s does not verify its URL %s: %v", id, o, err)
			}
			if err := nodes[other].Verify(req, hf.now); err == nil {
				t.Fatalf("%s verifies %s's URL %s", other, id, o)
			}
		}
	}
	if resp, body := hf.fetch(media[2*per]); resp.StatusCode != 404 || !strings.Contains(string(body), "node_gone") {
		t.Fatalf("revoked node's playlist: %d %s", resp.StatusCode, body)
	}
	if resp, _ := hf.fetch(media[3*per]); resp.StatusCode != 200 {
		t.Fatalf("origin's playlist: %d", resp.StatusCode)
	}
	// Only signed node lists: a list longer than MaxCandidates or a bad id
	// is refused even when signed, and an unsigned one is refused.
	exp := hf.now.Add(URLTTL)
	for _, p := range []string{"7/via/a,b,c,d,e/master.m3u8", "7/via/N1/master.m3u8"} {
		if resp, _ := hf.fetch(hf.h.signer.Sign(Prefix+p, exp)); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := hf.fetch(fmt.Sprintf("%s7/via/n1/master.m3u8", Prefix)); resp.StatusCode != 403 {
		t.Errorf("unsigned node master: %d, want 403", resp.StatusCode)
	}
}

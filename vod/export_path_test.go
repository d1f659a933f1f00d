package vod

import (
	"strings"
	"testing"

	"github.com/marquee-party/marquee/vod/segcache"
)

// ObjectPath must name exactly the objects the media playlists list: CDN
// manifests (issue #16) key the nodes' copies by it.
func TestExportObjectPathMatchesPlaylists(t *testing.T) {
	hf := newHTTPFixture(t, newFixture(t, 0))
	x, err := hf.svc.Export(hf.root, hf.path)
	if err != nil {
		t.Fatal(err)
	}
	_, master := hf.fetch(hf.h.MasterURL(7))
	media, _ := uris(string(master))
	for i, rd := range x.Renditions()[:len(media)] {
		_, body := hf.fetch(media[i])
		objs, _ := uris(string(body))
		if len(objs) != rd.Segments+1 {
			t.Fatalf("%s: playlist lists %d objects, Export says %d segments + init", rd.Name, len(objs), rd.Segments)
		}
		for j, u := range objs {
			want, _, _ := strings.Cut(u, "?")
			k := j - 1 // the init segment comes first
			if j == 0 {
				k = segcache.InitIndex
			}
			got, err := x.ObjectPath(7, rd.Name, k)
			if err != nil || got != want {
				t.Fatalf("%s object %d: ObjectPath %q (%v), playlist %q", rd.Name, j, got, err, want)
			}
		}
	}
	if _, err := x.ObjectPath(7, "9999p", 0); err == nil {
		t.Fatal("an unknown rendition must be an error")
	}
}

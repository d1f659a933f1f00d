package cdnctl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

type fakeItem struct {
	objs  map[string][]byte
	opens int
}

func (f *fakeItem) ItemObjects(_ context.Context, itemID int64, rends []string) ([]ItemObject, error) {
	var out []ItemObject
	for _, k := range []string{"/api/hls/5/v/720p/s/init.mp4", "/api/hls/5/v/720p/s/0.m4s", "/api/hls/5/v/720p/s/1.m4s"} {
		b := f.objs[k]
		out = append(out, ItemObject{Kind: cdnwire.KindSegment, Key: k, Open: func(context.Context) (io.ReadCloser, error) {
			f.opens++
			return io.NopCloser(bytes.NewReader(b)), nil
		}})
	}
	return out, nil
}

type fakeHolders map[string][]Holder

func (f fakeHolders) Holders(_ context.Context, key string) ([]Holder, error) { return f[key], nil }

type fakeSigner struct{}

func (fakeSigner) SignPeer(node, path string, exp time.Time) (string, error) {
	return path + "?exp=1&sig=" + node, nil
}

func TestReplicateOrdersPeersBeforeOriginAndHashes(t *testing.T) {
	it := &fakeItem{objs: map[string][]byte{
		"/api/hls/5/v/720p/s/init.mp4": []byte("init"),
		"/api/hls/5/v/720p/s/0.m4s":    []byte("seg zero"),
		"/api/hls/5/v/720p/s/1.m4s":    []byte("seg one!!"),
	}}
	hold := fakeHolders{"/api/hls/5/v/720p/s/0.m4s": {{NodeID: "b", PublicURL: "http://b:8/"}, {NodeID: "a", PublicURL: "http://a:8"}}}
	q := NewTasks()
	r := &Replicator{Manifests: NewManifests(it), Holders: hold, Signer: fakeSigner{}, Tasks: q,
		Origin: "http://api:80/", Now: time.Now}
	task, err := r.Replicate(context.Background(), "a", 5, []string{"720p"})
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Objects) != 3 {
		t.Fatalf("objects %+v", task.Objects)
	}
	o := task.Objects[1]
	sum := sha256.Sum256([]byte("seg zero"))
	if o.Bytes != 8 || o.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("object %+v", o)
	}
	want := []string{"http://b:8" + cdnwire.PeerPrefix + o.Key + "?exp=1&sig=b", "http://api:80" + o.Key}
	if strings.Join(o.Sources, " ") != strings.Join(want, " ") {
		t.Fatalf("sources %q, want %q (the asking node itself left out, the origin last)", o.Sources, want)
	}
	if got := strings.Join(o.SourceNodes, " "); got != "b origin" {
		t.Fatalf("source nodes %q", got)
	}
	if got := task.Objects[0].Sources; len(got) != 1 || got[0] != "http://api:80/api/hls/5/v/720p/s/init.mp4" {
		t.Fatalf("an object no peer holds comes from the origin only: %q", got)
	}
	if ts := q.Take("a"); len(ts) != 1 || ts[0].ID != task.ID {
		t.Fatalf("queued %+v", ts)
	}
	if _, err := r.Replicate(context.Background(), "a", 5, nil); err != nil || it.opens != 3 {
		t.Fatalf("a second manifest must reuse the kept SHA-256s: %d opens, err %v", it.opens, err)
	}
}

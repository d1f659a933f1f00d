package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

type fakeNodes struct{ owner int64 }

func (fakeNodes) Authenticate(_ context.Context, cred string) (string, error) {
	if cred == "node-credential" {
		return "n1", nil
	}
	return "", errors.New("unknown")
}

func (f *fakeNodes) NodeOwner(_ context.Context, id string) (string, int64, error) {
	switch id {
	case "local":
		return cdnwire.ModeLocal, f.owner, nil
	case "shared":
		return cdnwire.ModeShared, 0, nil
	}
	return "", 0, errors.New("no such node")
}

// segObjects is an item of two segments.
type segObjects struct{}

func (segObjects) ItemObjects(_ context.Context, id int64, _ []string) ([]cdnctl.ItemObject, error) {
	var out []cdnctl.ItemObject
	for k := 0; k < 2; k++ {
		body := []byte(fmt.Sprintf("segment %d of %d", k, id))
		out = append(out, cdnctl.ItemObject{Kind: cdnwire.KindSegment, Key: fmt.Sprintf("/api/hls/%d/v/720p/s/%d.m4s", id, k),
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }})
	}
	return out, nil
}

type noPeers struct{}

func (noPeers) SignPeer(string, string, time.Time) (string, error) { return "", errors.New("unused") }

func TestCDNManifestAndReplicateAccess(t *testing.T) {
	nodes := &fakeNodes{}
	tasks := cdnctl.NewTasks()
	repl := &cdnctl.Replicator{Manifests: cdnctl.NewManifests(segObjects{}), Signer: noPeers{}, Tasks: tasks,
		Origin: "http://api.test", Now: time.Now}
	w := newWorld(t, worldOpts{cdnRepl: &CDNReplParams{Nodes: nodes, Owners: nodes, Replicator: repl}})
	movies, film := w.addItem("Film")
	admin, _ := w.user("root", auth.RoleAdmin)
	member, mu := w.user("mia", auth.RoleMember)
	nodes.owner = mu.ID
	admin.must(200, "PUT", fmt.Sprintf("/api/users/%d/libraries", mu.ID),
		map[string]any{"all": false, "libraryIds": []int64{movies}}, nil)

	// The manifest is for nodes only.
	path := fmt.Sprintf("%s?item=%d&renditions=720p", cdnwire.ManifestPath, film)
	if r := w.browser().do("GET", path, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("manifest without a node credential: %d", r.status)
	}
	node := w.bot("wrong")
	if r := node.do("GET", path, nil); r.status != http.StatusUnauthorized || r.code() != "node_credential_invalid" {
		t.Fatalf("manifest with a wrong credential: %d %s", r.status, r.code())
	}
	var man cdnwire.Manifest
	w.bot("node-credential").must(200, "GET", path, nil, &man)
	sum := sha256.Sum256([]byte(fmt.Sprintf("segment 1 of %d", film)))
	if len(man.Objects) != 2 || man.Objects[1].SHA256 != hex.EncodeToString(sum[:]) || man.Objects[1].Bytes != int64(len(fmt.Sprintf("segment 1 of %d", film))) {
		t.Fatalf("manifest %+v", man)
	}

	// A member may ask only the local node they own.
	body := map[string]any{"item_id": film, "renditions": []string{"720p"}}
	if r := member.do("POST", "/api/cdn/nodes/shared/replicate", body); r.status != http.StatusForbidden {
		t.Fatalf("member replicating to a shared node: %d", r.status)
	}
	var out replicateReply
	member.must(http.StatusAccepted, "POST", "/api/cdn/nodes/local/replicate", body, &out)
	ts := tasks.Take("local")
	if len(ts) != 1 || ts[0].ID != out.TaskID || out.Objects != 2 || ts[0].Objects[0].Sources[0] != "http://api.test"+man.Objects[0].Key {
		t.Fatalf("queued %+v for reply %+v", ts, out)
	}
	admin.must(http.StatusAccepted, "POST", "/api/cdn/nodes/shared/replicate", body, nil)
	if r := admin.do("POST", "/api/cdn/nodes/nope/replicate", body); r.status != http.StatusNotFound {
		t.Fatalf("unknown node: %d", r.status)
	}
}

package cdnctl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// PeerTTL is how long the peer URLs of a replication task stay valid.
const PeerTTL = 6 * time.Hour

// Holder is a node that holds an object, as the global index knows it.
type Holder struct {
	NodeID    string
	PublicURL string
}

// Holders answers which healthy nodes hold an object (the global index,
// best first). The index implements it.
type Holders interface {
	Holders(ctx context.Context, key string) ([]Holder, error)
}

// PeerSigner signs path for the asking node with the serving node's URL
// key, returning the escaped path followed by ?exp=…&sig=… (as
// cdn.Signer.Sign does).
type PeerSigner interface {
	SignPeer(servingNode, path string, exp time.Time) (string, error)
}

// ErrNoObjects is returned for a replication with nothing to fetch.
var ErrNoObjects = errors.New("cdnctl: the item has no objects in those renditions")

// Replicator turns a replication request into a cdnwire.Task with
// ordered sources and queues it for the node.
type Replicator struct {
	Manifests *Manifests
	Holders   Holders
	Signer    PeerSigner
	Tasks     *Tasks
	// Origin is the API's base URL as nodes reach it.
	Origin string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Replicate queues a task for node to fetch itemID's objects of the
// renditions: from each peer holding an object (never node itself), then
// from the origin. It returns the task queued.
func (r *Replicator) Replicate(ctx context.Context, node string, itemID int64, renditions []string) (cdnwire.Task, error) {
	man, err := r.Manifests.Manifest(ctx, itemID, renditions)
	if err != nil {
		return cdnwire.Task{}, err
	}
	if len(man.Objects) == 0 {
		return cdnwire.Task{}, ErrNoObjects
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	t := cdnwire.Task{ID: "repl-" + hex.EncodeToString(id), Kind: cdnwire.TaskReplicate, ItemID: itemID}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	exp := now().Add(PeerTTL)
	for _, o := range man.Objects {
		srcs, ids, err := r.sources(ctx, node, o.Key, exp)
		if err != nil {
			return cdnwire.Task{}, err
		}
		t.Objects = append(t.Objects, cdnwire.TaskObject{Key: o.Key, Bytes: o.Bytes, SHA256: o.SHA256,
			Sources: srcs, SourceNodes: ids})
	}
	r.Tasks.Enqueue(node, t)
	return t, nil
}

// sources are key's ordered sources for node, signed for it until exp:
// the peers holding it (never node itself), then the origin; ids names
// each source's node ("origin" last).
func (r *Replicator) sources(ctx context.Context, node, key string, exp time.Time) (srcs, ids []string, err error) {
	if r.Holders != nil {
		hs, err := r.Holders.Holders(ctx, key)
		if err != nil {
			return nil, nil, fmt.Errorf("cdnctl: who holds %s: %w", key, err)
		}
		for _, h := range hs {
			if h.NodeID == node || h.PublicURL == "" {
				continue
			}
			q, err := r.Signer.SignPeer(h.NodeID, cdnwire.PeerPrefix+key, exp)
			if err != nil {
				return nil, nil, err
			}
			srcs = append(srcs, strings.TrimSuffix(h.PublicURL, "/")+q)
			ids = append(ids, h.NodeID)
		}
	}
	return append(srcs, strings.TrimSuffix(r.Origin, "/")+key), append(ids, "origin"), nil
}

// Sources are obj's ordered sources for nodeID (the planner's Sources).
func (r *Replicator) Sources(ctx context.Context, nodeID string, obj cdnwire.ManifestObject) ([]string, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	srcs, _, err := r.sources(ctx, nodeID, obj.Key, now().Add(PeerTTL))
	return srcs, err
}

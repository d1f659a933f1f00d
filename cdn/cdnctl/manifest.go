package cdnctl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// ItemObject is one object of an item as the origin has it: an HLS init
// segment or segment of one rendition, a download file or a poster.
type ItemObject struct {
	Kind string // cdnwire.KindSegment, KindDownload or KindPoster
	// Key is the object's origin path, the nodes' cache key. It names the
	// source's version (and the encoder settings), so the bytes under one
	// key never change and their SHA-256 can be kept.
	Key string
	// Open returns the object's bytes, made by the encoders when they are
	// not cached yet; the caller closes it.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// ItemObjects lists an item's objects for some renditions (all when
// renditions is empty). The API implements it over vod.Export.
type ItemObjects interface {
	ItemObjects(ctx context.Context, itemID int64, renditions []string) ([]ItemObject, error)
}

// Manifests makes cdnwire.Manifests, hashing each object once: the
// SHA-256 and size are kept in memory by key.
type Manifests struct {
	src ItemObjects

	mu   sync.Mutex
	sums map[string]sized
}

type sized struct {
	bytes int64
	sha   string
}

// NewManifests returns a manifest maker over src.
func NewManifests(src ItemObjects) *Manifests {
	return &Manifests{src: src, sums: map[string]sized{}}
}

// Manifest lists itemID's objects of the renditions with their sizes and
// SHA-256, making and hashing those not seen before. Objects are hashed on
// the caller's goroutine, one at a time.
func (m *Manifests) Manifest(ctx context.Context, itemID int64, renditions []string) (cdnwire.Manifest, error) {
	objs, err := m.src.ItemObjects(ctx, itemID, renditions)
	if err != nil {
		return cdnwire.Manifest{}, err
	}
	out := cdnwire.Manifest{ItemID: itemID, Objects: make([]cdnwire.ManifestObject, 0, len(objs))}
	for _, o := range objs {
		s, err := m.sum(ctx, o)
		if err != nil {
			return cdnwire.Manifest{}, fmt.Errorf("cdnctl: manifest of item %d: %s: %w", itemID, o.Key, err)
		}
		out.Objects = append(out.Objects, cdnwire.ManifestObject{Kind: o.Kind, Key: o.Key, Bytes: s.bytes, SHA256: s.sha})
	}
	return out, nil
}

// sum returns o's size and SHA-256, from memory or by reading it.
func (m *Manifests) sum(ctx context.Context, o ItemObject) (sized, error) {
	m.mu.Lock()
	s, ok := m.sums[o.Key]
	m.mu.Unlock()
	if ok {
		return s, nil
	}
	r, err := o.Open(ctx)
	if err != nil {
		return sized{}, err
	}
	defer r.Close()
	h := sha256.New()
	k, err := io.Copy(h, r)
	if err != nil {
		return sized{}, err
	}
	s = sized{bytes: k, sha: hex.EncodeToString(h.Sum(nil))}
	m.mu.Lock()
	m.sums[o.Key] = s
	m.mu.Unlock()
	return s, nil
}

package vod

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/marquee-party/marquee/vod/segcache"
)

// ExportRendition describes one rendition a download may be assembled
// from.
type ExportRendition struct {
	Name     string
	Height   int  // 0 for an audio-only rendition
	Remux    bool // the source's own packets (rendition "src")
	Segments int
}

// Export is one source as the segment cache sees it, for offline
// downloads (package downloads): they are assembled from the same init
// segments and segments that viewers get, through the same encoder
// goroutines, so a segment already watched costs no encode and a
// download warms the cache for later viewers.
type Export struct {
	s  *Service
	it *item
}

// Export scans (once per source version) the file at path, opened through
// open (the item's library root).
func (s *Service) Export(open Opener, path string) (*Export, error) {
	it, err := s.item(open, path)
	if err != nil {
		return nil, err
	}
	return &Export{s: s, it: it}, nil
}

// Version names the source's version (path, size, mtime): files made from
// it are stale once it changes.
func (e *Export) Version() string { return e.it.src.ID() }

// Duration is the source's video duration.
func (e *Export) Duration() time.Duration {
	return time.Duration(e.it.tl.End) * time.Second / clock
}

// Renditions lists the renditions of the source, highest first after the
// remux rendition, as the master playlist does, then its alternate audio
// renditions (Height 0), the source's first audio stream first.
func (e *Export) Renditions() []ExportRendition {
	var out []ExportRendition
	for _, r := range append(Renditions(e.it.tl), AudioRenditions(e.it.tl)...) {
		out = append(out, ExportRendition{Name: r.Name, Height: r.Height, Remux: r.Remux,
			Segments: e.it.tl.view(r).Segments()})
	}
	return out
}

// Init returns the init segment of a rendition, encoding it if needed.
func (e *Export) Init(ctx context.Context, rendition string) (*os.File, error) {
	return e.s.object(ctx, e.it, rendition, segcache.InitIndex)
}

// Segment returns segment k of a rendition from the cache, or asks the
// rendition's encoder goroutine for it (coalescing with viewers) and
// waits.
func (e *Export) Segment(ctx context.Context, rendition string, k int) (*os.File, error) {
	return e.s.object(ctx, e.it, rendition, k)
}

// ObjectPath is the origin path (and CDN cache key) of segment k of a
// rendition, or of its init segment for segcache.InitIndex, as the media
// playlists name it: it includes the source's version and the encoder
// settings, so the bytes under one path never change.
func (e *Export) ObjectPath(itemID int64, rendition string, k int) (string, error) {
	rd, ok := findRendition(e.it.tl, rendition)
	if !ok {
		return "", fmt.Errorf("vod: no rendition %q: %w", rendition, ErrNotFound)
	}
	name := strconv.Itoa(k) + ".m4s"
	if k == segcache.InitIndex {
		name = "init.mp4"
	}
	return fmt.Sprintf("%s%d/%s/%s/%s/%s", Prefix, itemID, e.it.src.ID(), rd.Name, settingsHash(rd, e.s.segTicks), name), nil
}

package vod

import (
	"context"
	"os"
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
// remux rendition, as the master playlist does.
func (e *Export) Renditions() []ExportRendition {
	var out []ExportRendition
	for _, r := range Renditions(e.it.tl) {
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

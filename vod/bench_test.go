package vod

import (
	"os"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// BenchmarkRendition encodes the 10 s 1080p30 bench clip into each
// rendition, the alternate audio one ("a1") included, one run from the start, and reports the real-time factor
// (media seconds per wall second) and the time to the first segment.
//
//	go test -run '^$' -bench Rendition -benchtime 1x ./vod/
func BenchmarkRendition(b *testing.B) {
	path := testmedia.Generate(b, testmedia.Bench1080p)
	seg := int64(4 * clock)
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tl, err := scan(f, seg)
	if err != nil {
		b.Fatal(err)
	}
	media := float64(tl.End) / clock
	for _, r := range append(Renditions(tl), AudioRenditions(tl)...) {
		b.Run(r.Name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				start := time.Now()
				s, err := newSegmenter(f, tl.view(r), r, seg, 0)
				if err != nil {
					b.Fatal(err)
				}
				var first time.Duration
				for s.nextIndex() < tl.view(r).Segments() {
					if _, _, err := s.nextSegment(); err != nil {
						b.Fatal(err)
					}
					if first == 0 {
						first = time.Since(start)
					}
				}
				s.close()
				b.ReportMetric(media/time.Since(start).Seconds(), "x-realtime")
				b.ReportMetric(float64(first.Milliseconds()), "ms-first-segment")
			}
		})
	}
}

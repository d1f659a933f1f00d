package media

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

type nullSink struct{}

func (nullSink) Configure(Info) error     { return nil }
func (nullSink) WriteVideo(f Frame) error { return nil }
func (nullSink) WriteAudio(f Frame) error { return nil }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipeline1080p encodes the 10 s 1080p H.264 clip into three
// layers plus Opus, unpaced. x-realtime is media seconds per wall second;
// cpu-s/media-s is the cores a paced party would use.
func BenchmarkPipeline1080p(b *testing.B) {
	src := testmedia.Generate(b, testmedia.Bench1080p)
	for _, codec := range []string{CodecVP8, CodecH264} {
		b.Run(codec, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.VideoCodec, cfg.Unpaced = codec, true
			var media, wall, cpu time.Duration
			for b.Loop() {
				pl := NewPlayer(PlayerParams{URL: src, Config: cfg, Sink: nullSink{}, Timeline: NewTimeline(time.Now())})
				c0, w0 := cpuNow(), time.Now()
				if err := pl.Run(context.Background()); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(w0)
				cpu += cpuNow() - c0
				media += pl.Status().Duration
			}
			b.ReportMetric(media.Seconds()/wall.Seconds(), "x-realtime")
			b.ReportMetric(cpu.Seconds()/media.Seconds(), "cpu-s/media-s")
		})
	}
}

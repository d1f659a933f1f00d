package ingestbench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/marquee-party/marquee/media"
)

// countSink counts frames and drops them.
type countSink struct {
	video, audio atomic.Int64
	layers       int
}

func (c *countSink) Configure(i media.Info) error { c.layers = len(i.Layers); return nil }
func (c *countSink) WriteVideo(media.Frame) error { c.video.Add(1); return nil }
func (c *countSink) WriteAudio(media.Frame) error { c.audio.Add(1); return nil }

// pipelineResult is one pipeline-only run.
type pipelineResult struct {
	rtf      float64 // media seconds per wall second, unpaced
	cpuShare float64 // cores used while paced in real time
	layers   int
	encode   []time.Duration // per source frame, all layers, paced
}

// runPipeline plays src unpaced to the end (real-time factor), then paced
// for paced (CPU share), with no network in the way.
func runPipeline(ctx context.Context, src string, cfg media.Config, paced time.Duration) (pipelineResult, error) {
	var res pipelineResult
	c := cfg
	c.Unpaced = true
	sink := &countSink{}
	pl := media.NewPlayer(media.PlayerParams{URL: src, Config: c, Sink: sink, Timeline: media.NewTimeline(time.Now())})
	start := time.Now()
	if err := pl.Run(ctx); err != nil {
		return res, err
	}
	res.rtf = pl.Status().Duration.Seconds() / time.Since(start).Seconds()
	res.layers = sink.layers

	pctx, cancel := context.WithTimeout(ctx, paced)
	defer cancel()
	pl = media.NewPlayer(media.PlayerParams{URL: src, Config: cfg, Sink: &countSink{}, Timeline: media.NewTimeline(time.Now()),
		OnVideoEncoded: func(d time.Duration) { res.encode = append(res.encode, d) }})
	cpu0, wall0 := cpuTime(), time.Now()
	if err := pl.Run(pctx); err != nil && pctx.Err() == nil {
		return res, err
	}
	res.cpuShare = (cpuTime() - cpu0).Seconds() / time.Since(wall0).Seconds()
	return res, nil
}

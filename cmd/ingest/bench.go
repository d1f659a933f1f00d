package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/go-logr/logr"
	protolog "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/marquee-party/marquee/ingest/ingestbench"
	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/media"
)

const benchSummary = `Measures the ingest on this machine and prints one line per figure:
pipeline real-time factor and CPU per party, then through an in-process
SFU to a Go viewer decoding with libav: glass-to-glass latency,
seek-to-first-frame and join-to-first-frame. Medians over --runs runs.
The default source is a generated 10 s 1080p30 H.264 + AAC clip.`

type benchConfig struct {
	Source       string        `yaml:"source" usage:"media file to play (default: generated 1080p H.264 clip)"`
	Codecs       []string      `yaml:"codecs" usage:"output video codecs to measure (comma list of vp8, h264)"`
	Runs         int           `yaml:"runs" usage:"runs per figure (medians are reported)"`
	Paced        time.Duration `yaml:"paced" usage:"real-time play length of each CPU-share run"`
	PipelineOnly bool          `yaml:"pipeline_only" usage:"skip the runs through the SFU"`
}

func (c benchConfig) Validate() error {
	for _, codec := range c.Codecs {
		if codec != media.CodecVP8 && codec != media.CodecH264 {
			return fmt.Errorf("codecs: %q is not vp8 or h264", codec)
		}
	}
	if c.Runs < 1 || c.Paced < time.Second {
		return fmt.Errorf("runs must be >= 1 and paced >= 1s")
	}
	return nil
}

func runBench(args []string) int {
	cfg := benchConfig{Codecs: []string{media.CodecVP8, media.CodecH264}, Runs: 3, Paced: 6 * time.Second}
	_, err := config.Load(&cfg, config.Options{Name: "ingest bench", Summary: benchSummary}, args)
	if err != nil {
		return cli.Exit(os.Stderr, err)
	}
	astiav.SetLogLevel(astiav.LogLevelError)
	lksdk.SetLogger(protolog.LogRLogger(logr.Discard()))
	src := cfg.Source
	if src == "" {
		if src, err = testmedia.Path(testmedia.Bench1080p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := ingestbench.Options{Codecs: cfg.Codecs, Runs: cfg.Runs, Paced: cfg.Paced, PipelineOnly: cfg.PipelineOnly}
	err = ingestbench.Run(ctx, o, src, func(format string, a ...any) { fmt.Fprintf(os.Stdout, format+"\n", a...) })
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/marquee-party/marquee/cdn/cdnbench"
	"github.com/marquee-party/marquee/internal/cli"
	"github.com/marquee-party/marquee/internal/config"
)

const benchSummary = `Measures this node's cache on this machine and prints one line per figure:
the origin fetched directly (the comparison), cache hits (MB/s) and misses
(ms to the last byte) per object size, then --concurrency clients asking
for one cold object at once (the origin must be asked once). Origin, node
and clients run in this process over loopback TCP; the cache is a temp dir.
Medians over --runs runs.`

// benchConfig is `cdn bench`'s configuration.
type benchConfig struct {
	Runs        int      `yaml:"runs" usage:"runs per figure (medians are reported)"`
	Sizes       []string `yaml:"sizes" usage:"object sizes (comma list, e.g. 64KiB,1MiB,8MiB)"`
	Concurrency int      `yaml:"concurrency" usage:"clients asking for one cold object at once"`
}

// params checks the flags against cdnbench's bounds, naming the key.
func (c benchConfig) params() (cdnbench.Params, error) {
	p := cdnbench.Params{Runs: c.Runs, Concurrency: c.Concurrency}
	for _, s := range c.Sizes {
		n, err := cdnbench.ParseSize(s)
		if err != nil {
			return p, fmt.Errorf("sizes: %w", err)
		}
		p.Sizes = append(p.Sizes, n)
	}
	switch {
	case len(p.Sizes) == 0 || len(p.Sizes) > cdnbench.MaxSizes:
		return p, fmt.Errorf("sizes: %d given, want 1..%d", len(p.Sizes), cdnbench.MaxSizes)
	case c.Runs < 1 || c.Runs > cdnbench.MaxRuns:
		return p, fmt.Errorf("runs: %d, want 1..%d", c.Runs, cdnbench.MaxRuns)
	case c.Concurrency < 1 || c.Concurrency > cdnbench.MaxConcurrency:
		return p, fmt.Errorf("concurrency: %d, want 1..%d", c.Concurrency, cdnbench.MaxConcurrency)
	}
	return p, nil
}

// Validate names the failing key.
func (c benchConfig) Validate() error {
	_, err := c.params()
	return err
}

func defaultBenchConfig() benchConfig {
	c := benchConfig{Runs: 5, Concurrency: 20}
	for _, n := range cdnbench.DefaultSizes {
		c.Sizes = append(c.Sizes, cdnbench.FormatSize(n))
	}
	return c
}

func runBench(args []string) int {
	cfg := defaultBenchConfig()
	if _, err := config.Load(&cfg, config.Options{Name: "cdn bench", Summary: benchSummary}, args); err != nil {
		return cli.Exit(os.Stderr, err)
	}
	p, err := cfg.params()
	if err != nil { // Load validated; unreachable
		return cli.Exit(os.Stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := cdnbench.Run(ctx, os.Stdout, p); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

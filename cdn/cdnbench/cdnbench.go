// Package cdnbench is `cdn bench`: it measures a cdn.Node on this machine
// over real loopback TCP with a real cache directory, in front of an
// in-process origin serving generated objects, and prints one line per
// figure: the origin fetched directly (the comparison), cache hits and
// misses per object size, and concurrent misses on one cold object, which
// must reach the origin once.
package cdnbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/marquee-party/marquee/internal/machine"
)

// Bounds on Params, so one invocation stays short and its disk use small.
const (
	MaxRuns        = 100
	MaxSizes       = 8
	MaxSize        = 64 << 20 // the node makes concurrent viewers wait for fills up to this size
	MaxConcurrency = 200
)

// runBytes is how many bytes one hit or origin-direct run transfers, so
// small objects are timed over many requests rather than one.
const runBytes = 32 << 20

// maxRunRequests bounds a run's requests for tiny objects.
const maxRunRequests = 512

// deadline stops a stuck run; a default run takes seconds.
const deadline = 5 * time.Minute

// Params configure Run; zero values take the defaults.
type Params struct {
	// Runs per figure (default 5); medians are printed.
	Runs int
	// Sizes of the generated objects in bytes (default 64 KiB, 1 MiB, 8 MiB).
	Sizes []int64
	// Concurrency is the number of clients asking for one cold object at
	// once in the coalescing figure (default 20).
	Concurrency int
}

// DefaultSizes are the object sizes measured when Params.Sizes is empty:
// a poster, an HLS segment and a larger download chunk.
var DefaultSizes = []int64{64 << 10, 1 << 20, 8 << 20}

// ErrParams means Params are outside the bounds above.
var ErrParams = errors.New("cdnbench: invalid parameters")

func (p Params) withDefaults() (Params, error) {
	if p.Runs == 0 {
		p.Runs = 5
	}
	if len(p.Sizes) == 0 {
		p.Sizes = DefaultSizes
	}
	if p.Concurrency == 0 {
		p.Concurrency = 20
	}
	switch {
	case p.Runs < 1 || p.Runs > MaxRuns:
		return p, fmt.Errorf("%w: runs %d, want 1..%d", ErrParams, p.Runs, MaxRuns)
	case len(p.Sizes) > MaxSizes:
		return p, fmt.Errorf("%w: %d sizes, want at most %d", ErrParams, len(p.Sizes), MaxSizes)
	case p.Concurrency < 1 || p.Concurrency > MaxConcurrency:
		return p, fmt.Errorf("%w: concurrency %d, want 1..%d", ErrParams, p.Concurrency, MaxConcurrency)
	}
	for _, s := range p.Sizes {
		if s < 1 || s > MaxSize {
			return p, fmt.Errorf("%w: size %s, want 1B..%s", ErrParams, FormatSize(s), FormatSize(MaxSize))
		}
	}
	return p, nil
}

// Run starts the origin and the node on 127.0.0.1, measures, prints the
// machine line and then one line per figure to out, and removes its cache
// directory. It returns when done, on the first failure, or when ctx ends.
func Run(ctx context.Context, out io.Writer, p Params) error {
	p, err := p.withDefaults()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	r, err := startRig(p.Sizes, p.Concurrency)
	if err != nil {
		return err
	}
	defer r.close()
	fmt.Fprintln(out, "machine: "+machine.Describe())
	for _, size := range p.Sizes {
		label := FormatSize(size)
		direct, err := repeat(p.Runs, func(int) (float64, error) { return r.throughput(ctx, r.originURL(size, "direct"), size, "") })
		if err != nil {
			return fmt.Errorf("cdnbench: origin size=%s: %w", label, err)
		}
		fmt.Fprintf(out, "origin size=%s median=%.1f MB/s runs=%d\n", label, median(direct), p.Runs)
		if _, err := r.get(ctx, r.nodeURL(size, "hit"), size, "MISS"); err != nil { // fill
			return fmt.Errorf("cdnbench: fill size=%s: %w", label, err)
		}
		hit, err := repeat(p.Runs, func(int) (float64, error) { return r.throughput(ctx, r.nodeURL(size, "hit"), size, "HIT") })
		if err != nil {
			return fmt.Errorf("cdnbench: hit size=%s: %w", label, err)
		}
		fmt.Fprintf(out, "hit size=%s median=%.1f MB/s runs=%d\n", label, median(hit), p.Runs)
		miss, err := repeat(p.Runs, func(run int) (float64, error) {
			d, err := r.get(ctx, r.nodeURL(size, "miss"+strconv.Itoa(run)), size, "MISS")
			return ms(d), err
		})
		if err != nil {
			return fmt.Errorf("cdnbench: miss size=%s: %w", label, err)
		}
		fmt.Fprintf(out, "miss size=%s median=%.2fms runs=%d\n", label, median(miss), p.Runs)
	}
	size := slices.Max(p.Sizes)
	fetches := 0
	together, err := repeat(p.Runs, func(run int) (float64, error) {
		d, n, err := r.coalesce(ctx, size, "cold"+strconv.Itoa(run), p.Concurrency)
		fetches = max(fetches, n)
		return ms(d), err
	})
	if err != nil {
		return fmt.Errorf("cdnbench: coalesced size=%s: %w", FormatSize(size), err)
	}
	fmt.Fprintf(out, "coalesced size=%s clients=%d origin_fetches=%d median=%.2fms runs=%d\n",
		FormatSize(size), p.Concurrency, fetches, median(together), p.Runs)
	return nil
}

// repeat calls f runs times and collects its figures.
func repeat(runs int, f func(run int) (float64, error)) ([]float64, error) {
	out := make([]float64, 0, runs)
	for run := range runs {
		v, err := f(run)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// FormatSize writes n as the largest of MiB, KiB or B that divides it.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

// ParseSize reads a size such as 64KiB, 1MiB, 512B or 4096 (bytes).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if len(t) > len(u.suffix) && strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			t, mult = t[:len(t)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n < 1 || n > MaxSize/mult {
		return 0, fmt.Errorf("%w: size %q, want e.g. 64KiB or 1MiB, at most %s", ErrParams, s, FormatSize(MaxSize))
	}
	return n * mult, nil
}

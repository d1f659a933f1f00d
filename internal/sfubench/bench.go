// Package sfubench is `sfu bench`: it runs the SFU binary in its own
// process and a load generator in this one (1 publisher with 720p VP8
// simulcast and Opus, N subscribers over real WebRTC speaking LiveKit's
// signalling), and prints one line per N: server CPU per forwarded packet,
// server memory per subscriber, packet loss and join-to-first-frame.
package sfubench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/marquee-party/marquee/internal/machine"
)

// The SFU's forwarding counters (rooms/forward).
const (
	forwardedMetric = "marquee_sfu_forward_packets_total"
	droppedMetric   = "marquee_sfu_forward_dropped_packets_total"
	datagramsMetric = "marquee_sfu_udp_datagrams_sent_total"
	syscallsMetric  = "marquee_sfu_udp_send_syscalls_total"
)

// options are the bench sub-command's flags.
type options struct {
	viewers      []int
	warmup       time.Duration
	duration     time.Duration
	binary       string
	pkg          string
	joinParallel int
	runs         int    // runs per N (and per binary); the median is reported
	compare      string // a baseline SFU binary run alternately with the one under test
}

func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("sfu bench", flag.ContinueOnError)
	fs.SetOutput(out)
	viewers := fs.String("viewers", "10,50,150,300", "comma list of subscriber counts, one run each")
	o := options{}
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "time after the last join before measuring")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measurement window per run")
	fs.StringVar(&o.binary, "sfu-binary", "", "SFU binary to run (default: go build the package below)")
	fs.StringVar(&o.pkg, "package", "./cmd/sfu", "package to build when --sfu-binary is empty")
	fs.IntVar(&o.joinParallel, "join-parallel", 10, "subscribers joining at once")
	fs.IntVar(&o.runs, "runs", 3, "runs per viewer count; the line shown is the median run's")
	fs.StringVar(&o.compare, "compare", "", "baseline SFU binary, run alternately with the one under test; prints both and their ratio")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: sfu bench [flags]\n\nRuns the SFU in its own process and N LiveKit subscribers here; one line per N.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(*viewers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("--viewers: %q is not a positive count", s)
		}
		o.viewers = append(o.viewers, n)
	}
	if o.duration <= 0 || o.joinParallel < 1 || o.runs < 1 {
		return o, errors.New("--duration, --join-parallel and --runs must be positive")
	}
	return o, nil
}

// Main runs the benchmark; args are the flags after `bench`. It returns
// the process exit code: 0 done (or --help), 1 failed, 2 bad flags.
func Main(ctx context.Context, args []string, stdout io.Writer) int {
	o, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 2
	}
	lksdk.SetLogger(protoLogger.LogRLogger(logr.Discard()))
	dir, err := os.MkdirTemp("", "sfubench-")
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := o.binary
	if bin == "" {
		if bin, err = buildSFU(ctx, o.pkg, dir); err != nil {
			fmt.Fprintln(stdout, err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "machine: %s\n", machine.Describe())
	fmt.Fprintln(stdout, "workload: 1 publisher, VP8 simulcast 2.0/0.6/0.15 Mbit/s at 30 fps + Opus 64 kbit/s; subscribers are server-sdk-go clients in this process")
	fmt.Fprintln(stdout, "targets: <=5 us/pkt at 150 viewers (LiveKit v1.13.5 ~10.7 us here; floor ~1.2 us), 0 loss, first frame <=1 s at 150")
	fmt.Fprintf(stdout, "each line: the median of %d runs by cpu_per_pkt, with the range of cpu_per_pkt over the runs\n", o.runs)
	for _, n := range o.viewers {
		if err := runN(ctx, o, bin, dir, n, stdout); err != nil {
			fmt.Fprintf(stdout, "viewers=%d error: %v\n", n, err)
			return 1
		}
	}
	return 0
}

// result is one line of the report.
type result struct {
	viewers       int
	joined        int // viewers that joined (after one retry each)
	usPerPacket   float64
	rssPerViewer  float64 // bytes
	loss          float64 // fraction
	fwdPerSecond  float64
	dropped       float64 // packets the SFU dropped for slow viewers in the window
	serverCores   float64
	ff50, ff95    time.Duration
	ffMax         time.Duration
	firstFrameGot int
	perSyscall    float64 // datagrams per send syscall (0: the SFU does not say)
}

func (r result) String() string {
	return fmt.Sprintf("viewers=%d joined=%d cpu_per_pkt=%.2fus rss_per_viewer=%.0fKiB loss=%.3f%% first_frame_p50=%dms p95=%dms max=%dms (%d/%d) fwd=%.0fpkt/s sfu_dropped=%.0f server_cpu=%.2fcores dgrams_per_syscall=%.2f",
		r.viewers, r.joined, r.usPerPacket, r.rssPerViewer/1024, r.loss*100, r.ff50.Milliseconds(), r.ff95.Milliseconds(),
		r.ffMax.Milliseconds(), r.firstFrameGot, r.joined, r.fwdPerSecond, r.dropped, r.serverCores, r.perSyscall)
}

// runOnce starts a fresh SFU, the publisher and n viewers, and measures.
func runOnce(ctx context.Context, o options, bin, dir string, n int) (result, error) {
	res := result{viewers: n}
	sfu, err := startSFU(ctx, bin, dir)
	if err != nil {
		return res, err
	}
	defer sfu.stop()
	pub, err := startPublisher(sfu.wsURL)
	if err != nil {
		return res, err
	}
	defer pub.close()
	time.Sleep(2 * time.Second) // let the layers reach the SFU
	base, err := readProc(sfu.pid())
	if err != nil {
		return res, err
	}
	viewers, err := joinAll(ctx, sfu.wsURL, n, o.joinParallel)
	defer func() {
		for _, v := range viewers {
			v.close()
		}
	}()
	if err != nil {
		return res, err
	}
	res.joined = len(viewers)
	waitFirstFrames(ctx, viewers, 20*time.Second)
	sleepCtx(ctx, o.warmup)
	return measure(ctx, sfu, viewers, base, o.duration, res)
}

// measure samples the SFU and the viewers over one window.
func measure(ctx context.Context, sfu *sfuProcess, viewers []*viewer, base procSample, d time.Duration, res result) (result, error) {
	p0, err := readProc(sfu.pid())
	if err != nil {
		return res, err
	}
	c0, err := scrapeCounters(ctx, sfu.metrics)
	if err != nil {
		return res, err
	}
	v0 := snapshotAll(viewers)
	start := time.Now()
	sleepCtx(ctx, d)
	p1, err := readProc(sfu.pid())
	if err != nil {
		return res, err
	}
	c1, err := scrapeCounters(ctx, sfu.metrics)
	if err != nil {
		return res, err
	}
	f0, f1 := c0[forwardedMetric], c1[forwardedMetric]
	d0, d1 := c0[droppedMetric], c1[droppedMetric]
	if sys := c1[syscallsMetric] - c0[syscallsMetric]; sys > 0 {
		res.perSyscall = (c1[datagramsMetric] - c0[datagramsMetric]) / sys
	}
	res.dropped = d1 - d0
	v1 := snapshotAll(viewers)
	elapsed := time.Since(start)
	if fwd := f1 - f0; fwd > 0 {
		res.usPerPacket = float64((p1.cpu - p0.cpu).Microseconds()) / fwd
		res.fwdPerSecond = fwd / elapsed.Seconds()
	}
	res.serverCores = (p1.cpu - p0.cpu).Seconds() / elapsed.Seconds()
	res.rssPerViewer = float64(p1.rss-base.rss) / float64(len(viewers))
	var expected, got int64
	for i := range v0 {
		expected += v1[i].highest - v0[i].highest
		got += v1[i].packets - v0[i].packets
	}
	if expected > 0 {
		res.loss = max(0, 1-float64(got)/float64(expected))
	}
	var ff []time.Duration
	for _, v := range viewers {
		if t, ok := v.joinToFirstFrame(); ok {
			ff = append(ff, t)
		}
	}
	res.firstFrameGot = len(ff)
	res.ff50, res.ff95, res.ffMax = percentile(ff, 0.50), percentile(ff, 0.95), percentile(ff, 1)
	return res, nil
}

// scrapeCounters reads the SFU counters the report uses.
func scrapeCounters(ctx context.Context, url string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, name := range []string{forwardedMetric, droppedMetric, datagramsMetric, syscallsMetric} {
		v, err := scrapeCounter(ctx, url, name)
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// snapshotAll reads every viewer's video and audio counters, in order.
func snapshotAll(vs []*viewer) []counts {
	out := make([]counts, 0, 2*len(vs))
	for _, v := range vs {
		out = append(out, v.video.snapshot(), v.audio.snapshot())
	}
	return out
}

// joinAll connects n viewers, parallel at a time.
func joinAll(ctx context.Context, url string, n, parallel int) ([]*viewer, error) {
	out := make([]*viewer, n)
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("bench-viewer-%d", i)
			if out[i], errs[i] = joinViewer(url, id); errs[i] != nil && ctx.Err() == nil {
				out[i], errs[i] = joinViewer(url, id) // one retry: a loaded machine times out
			}
		}()
	}
	wg.Wait()
	joined := slices.DeleteFunc(out, func(v *viewer) bool { return v == nil })
	if len(joined) == 0 {
		return nil, errors.Join(errs...)
	}
	return joined, ctx.Err()
}

// waitFirstFrames waits until every viewer decoded a frame, or limit.
func waitFirstFrames(ctx context.Context, vs []*viewer, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		all := true
		for _, v := range vs {
			if _, ok := v.joinToFirstFrame(); !ok {
				all = false
				break
			}
		}
		if all {
			return
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// percentile returns the p-quantile (nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

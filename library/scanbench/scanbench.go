// Package scanbench measures library scans for the `cmd/api bench`
// sub-command: a generated library of small stub files with valid names plus
// a few real clips, scanned once from empty and then again unchanged.
package scanbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/asticode/go-astiav"

	"github.com/marquee-party/marquee/internal/machine"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/internal/testmedia"
	"github.com/marquee-party/marquee/library"
)

// Params configure Run.
type Params struct {
	// Files in the generated library (default 2000), of which Clips (default
	// 5) are real H.264/AAC clips and the rest stub files.
	Files, Clips int
	// Runs is how many fresh first+incremental pairs to time (default 3).
	Runs int
	// Workers probe files in parallel (default runtime.NumCPU()).
	Workers int
}

// IncrementalTarget is the goal for rescanning 2,000 unchanged files.
const IncrementalTarget = 2 * time.Second

// Run generates the library, times the scans and prints one line per
// figure, machine line first, medians over p.Runs.
func Run(ctx context.Context, out io.Writer, p Params) error {
	if p.Files <= 0 {
		p.Files = 2000
	}
	if p.Clips <= 0 {
		p.Clips = 5
	}
	p.Clips = min(p.Clips, p.Files)
	if p.Runs <= 0 {
		p.Runs = 3
	}
	astiav.SetLogLevel(astiav.LogLevelFatal) // stub files would flood stderr
	fmt.Fprintln(out, "machine: "+machine.Describe())
	dir, err := os.MkdirTemp("", "marquee-scanbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "library")
	if err := Generate(root, p.Files, p.Clips); err != nil {
		return err
	}
	var first, second []time.Duration
	for run := range p.Runs {
		f, s, err := timeScans(ctx, filepath.Join(dir, fmt.Sprintf("run%d", run)), root, p.Workers)
		if err != nil {
			return err
		}
		first, second = append(first, f), append(second, s)
	}
	mf, ms := median(first), median(second)
	fmt.Fprintf(out, "scan_first files=%d clips=%d runs=%d median=%s items_per_sec=%.0f\n",
		p.Files, p.Clips, p.Runs, mf.Round(time.Millisecond), float64(p.Files)/mf.Seconds())
	verdict := "ok"
	if ms > IncrementalTarget*time.Duration(p.Files)/2000 {
		verdict = "SLOW"
	}
	fmt.Fprintf(out, "scan_incremental files=%d runs=%d median=%s items_per_sec=%.0f target=<%s %s\n",
		p.Files, p.Runs, ms.Round(time.Millisecond), float64(p.Files)/ms.Seconds(), IncrementalTarget, verdict)
	return nil
}

// timeScans scans root into a fresh database twice and returns both times.
func timeScans(ctx context.Context, dir, root string, workers int) (first, second time.Duration, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, 0, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(dir, "bench.db"), log)
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	svc, err := library.New(library.Params{DB: db, DataDir: filepath.Join(dir, "data"), Logger: log})
	if err != nil {
		return 0, 0, err
	}
	lib, err := svc.CreateLibrary(ctx, "bench", root, library.KindMovies)
	if err != nil {
		return 0, 0, err
	}
	sc := library.NewScanner(library.ScannerParams{Service: svc, Workers: workers, Logger: log})
	defer sc.Close()
	var times [2]time.Duration
	for i := range times {
		start := time.Now()
		if err := sc.Scan(ctx, lib.ID); err != nil {
			return 0, 0, err
		}
		pr, err := sc.Wait(ctx, lib.ID)
		if err != nil {
			return 0, 0, err
		}
		times[i] = time.Since(start)
		if pr.State != library.StateDone || pr.FilesTotal == 0 {
			return 0, 0, fmt.Errorf("scanbench: scan %d ended %s: %s", i+1, pr.State, pr.Error)
		}
		if i == 1 && pr.Unchanged != pr.FilesTotal {
			return 0, 0, fmt.Errorf("scanbench: second scan found %d of %d files changed", pr.FilesTotal-pr.Unchanged, pr.FilesTotal)
		}
	}
	return times[0], times[1], nil
}

// Generate writes a movies library: clips real clips and files-clips stub
// files named like real releases, spread over folders.
func Generate(root string, files, clips int) error {
	src, err := testmedia.Path(testmedia.H264AAC)
	if err != nil {
		return fmt.Errorf("scanbench: clip: %w", err)
	}
	clip, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	for i := range files {
		name := fmt.Sprintf("Bench Movie %04d (%d)", i, 1950+i%70)
		rel := filepath.Join(name, name+".mkv")
		body := []byte("stub media file\n")
		if i < clips {
			rel, body = filepath.Join(name, name+".mp4"), clip
		} else if i%3 == 0 {
			rel = fmt.Sprintf("Bench.Movie.%04d.%d.1080p.x264.mkv", i, 1950+i%70)
		}
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

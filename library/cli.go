package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/asticode/go-astiav"
	"golang.org/x/term"
)

// ScanCLIParams configure RunScanCLI.
type ScanCLIParams struct {
	Service *Service
	// Path is the library folder; a library is created for it if none exists.
	Path string
	Kind Kind
	// Name of a new library; defaults to the folder name.
	Name    string
	Workers int
}

// ErrScanFailed is returned by RunScanCLI when the scan did not complete.
var ErrScanFailed = errors.New("library: scan failed")

// RunScanCLI scans one folder for the `scan` sub-command, drawing a
// progress bar when out is a terminal and printing plain lines (one per
// 10%) otherwise. It ends with a summary line and returns when the scan
// ends or ctx is canceled (the scan is then canceled too). It lowers
// libav's process-wide log level to fatal-only: each unreadable file would
// otherwise print libav's complaints over the bar, and the summary lists
// the probe errors anyway.
func RunScanCLI(ctx context.Context, out io.Writer, p ScanCLIParams) error {
	astiav.SetLogLevel(astiav.LogLevelFatal)
	abs, err := filepath.Abs(p.Path)
	if err != nil {
		return fmt.Errorf("%w: path %q: %v", ErrInvalid, p.Path, err)
	}
	lib, err := p.Service.FindLibrary(ctx, SourceLocal, abs)
	switch {
	case errors.Is(err, ErrNotFound):
		if lib, err = p.Service.CreateLibrary(ctx, p.Name, abs, p.Kind); err != nil {
			return err
		}
		fmt.Fprintf(out, "created library %d %q (%s) at %s\n", lib.ID, lib.Name, lib.Kind, lib.Location)
	case err != nil:
		return err
	case p.Kind != "" && lib.Kind != p.Kind:
		return fmt.Errorf("%w: %s is already a %s library", ErrInvalid, abs, lib.Kind)
	}
	sc := NewScanner(ScannerParams{Service: p.Service, Workers: p.Workers, Logger: p.Service.log})
	defer sc.Close()
	ch, stop := sc.Subscribe(lib.ID)
	defer stop()
	if err := sc.Scan(ctx, lib.ID); err != nil {
		return err
	}
	width, tty := terminalWidth(out)
	nextStep := 0.0
	for {
		var pr Progress
		select {
		case pr = <-ch:
		case <-ctx.Done():
			sc.Cancel(lib.ID)
			pr, _ = sc.Wait(context.Background(), lib.ID)
		}
		if tty {
			fmt.Fprint(out, "\r"+renderBar(pr, width))
		} else if pr.State == StateRunning && pr.FilesTotal > 0 && pr.Percent >= nextStep {
			fmt.Fprintf(out, "scan %3.0f%% %d/%d files\n", pr.Percent, pr.FilesDone, pr.FilesTotal)
			for nextStep <= pr.Percent {
				nextStep += 10
			}
		}
		if pr.State.Final() {
			if tty {
				fmt.Fprintln(out)
			}
			fmt.Fprintln(out, summary(pr))
			for _, e := range pr.Errors[:min(len(pr.Errors), 10)] {
				fmt.Fprintln(out, "  ! "+e)
			}
			if pr.State != StateDone {
				return fmt.Errorf("%w: %s %s", ErrScanFailed, pr.State, pr.Error)
			}
			return nil
		}
	}
}

func terminalWidth(out io.Writer) (int, bool) {
	f, ok := out.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		w = 80
	}
	return w, true
}

// renderBar draws one terminal line: a bar, percent, counts and the
// current file, padded or cut to width.
func renderBar(p Progress, width int) string {
	const barWidth = 30
	filled := int(p.Percent / 100 * barWidth)
	filled = min(max(filled, 0), barWidth)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
	line := fmt.Sprintf("[%s] %5.1f%% %d/%d", bar, p.Percent, p.FilesDone, p.FilesTotal)
	if p.CurrentFile != "" {
		line += "  " + p.CurrentFile
	} else if p.Phase != "" {
		line += "  " + p.Phase
	}
	runes := []rune(line)
	if width > 0 && len(runes) > width-1 {
		runes = runes[:width-1]
	}
	if width > 0 {
		return string(runes) + strings.Repeat(" ", width-1-len(runes))
	}
	return string(runes)
}

func summary(p Progress) string {
	d := p.FinishedAt.Sub(p.StartedAt).Round(time.Millisecond)
	s := fmt.Sprintf("scan %s: %d files (added %d, updated %d, unchanged %d, removed %d, probe errors %d) in %s",
		p.State, p.FilesTotal, p.Added, p.Updated, p.Unchanged, p.Removed, p.ProbeErrors, d)
	if p.Error != "" {
		s += ": " + p.Error
	}
	return s
}

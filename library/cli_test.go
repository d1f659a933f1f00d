package library

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRunScanCLI(t *testing.T) {
	svc, _ := newTestService(t)
	root := stubLibrary(t, 40)
	var out bytes.Buffer
	if err := RunScanCLI(context.Background(), &out, ScanCLIParams{Service: svc, Path: root, Kind: KindMovies}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"created library 1", "scan done: 40 files (added 40,", "probe errors 40", "  ! "} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := RunScanCLI(context.Background(), &out, ScanCLIParams{Service: svc, Path: root}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "unchanged 40") || strings.Contains(out.String(), "created library") {
		t.Errorf("second run:\n%s", out.String())
	}
	if err := RunScanCLI(context.Background(), &out, ScanCLIParams{Service: svc, Path: root, Kind: KindMusic}); err == nil {
		t.Error("kind mismatch accepted")
	}
}

func TestRenderBar(t *testing.T) {
	tests := []struct {
		p     Progress
		width int
		want  string
	}{
		{Progress{Percent: 50, FilesDone: 5, FilesTotal: 10, CurrentFile: "a.mkv"}, 0,
			"[" + strings.Repeat("█", 15) + strings.Repeat("░", 15) + "]  50.0% 5/10  a.mkv"},
		{Progress{Percent: 100, FilesDone: 1, FilesTotal: 1, Phase: PhaseCleaning}, 0,
			"[" + strings.Repeat("█", 30) + "] 100.0% 1/1  cleaning"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := renderBar(tt.p, tt.width); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
	long := renderBar(Progress{Percent: 10, CurrentFile: strings.Repeat("é", 200)}, 60)
	if n := utf8.RuneCountInString(long); n != 59 {
		t.Errorf("width 60 gave %d runes", n)
	}
}

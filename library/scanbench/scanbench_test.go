package scanbench

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), &out, Params{Files: 60, Clips: 2, Runs: 1, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "machine: cpu=") ||
		!strings.HasPrefix(lines[1], "scan_first files=60 clips=2 runs=1 ") ||
		!strings.HasPrefix(lines[2], "scan_incremental files=60 ") {
		t.Fatalf("output:\n%s", out.String())
	}
}

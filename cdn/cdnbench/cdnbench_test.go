package cdnbench

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRunSmall runs the whole bench with tiny objects and checks the
// report's shape and that concurrent misses reached the origin once. It
// asserts behaviour only; timings vary too much on shared machines.
func TestRunSmall(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var out bytes.Buffer
	err := Run(context.Background(), &out, Params{Runs: 1, Sizes: []int64{1000, 4 << 10, 16 << 10}, Concurrency: 12})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"machine: cpu=",
		"origin size=1000B median=", "hit size=1000B median=", "miss size=1000B median=",
		"origin size=4KiB median=", "hit size=4KiB median=", "miss size=4KiB median=",
		"origin size=16KiB median=", "hit size=16KiB median=", "miss size=16KiB median=",
		"coalesced size=16KiB clients=12 origin_fetches=1 median="}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[i], w)
		}
		if i > 0 && !strings.HasSuffix(lines[i], " runs=1") {
			t.Errorf("line %d = %q, want it to end with runs=1", i+1, lines[i])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("left behind in TMPDIR: %v", left)
	}
}

func TestParams(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"defaults", Params{}, true},
		{"too many runs", Params{Runs: MaxRuns + 1}, false},
		{"negative runs", Params{Runs: -1}, false},
		{"size too large", Params{Sizes: []int64{MaxSize + 1}}, false},
		{"too many sizes", Params{Sizes: make([]int64, MaxSizes+1)}, false},
		{"too many clients", Params{Concurrency: MaxConcurrency + 1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.withDefaults()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrParams)) {
				t.Errorf("withDefaults() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		text string
	}{
		{"64KiB", 64 << 10, "64KiB"},
		{"1MiB", 1 << 20, "1MiB"},
		{" 8mib", 8 << 20, "8MiB"},
		{"1000", 1000, "1000B"},
		{"512B", 512, "512B"},
		{"1536KiB", 1536 << 10, "1536KiB"},
		{"0", 0, ""},
		{"65MiB", 0, ""},
		{"MiB", 0, ""},
		{"1.5MiB", 0, ""},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.want == 0 {
				if !errors.Is(err, ErrParams) {
					t.Errorf("ParseSize(%q) = %d, %v; want ErrParams", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want || FormatSize(got) != tt.text {
				t.Errorf("ParseSize(%q) = %d (%s), %v; want %d (%s)", tt.in, got, FormatSize(got), err, tt.want, tt.text)
			}
		})
	}
}

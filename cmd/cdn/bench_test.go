package main

import (
	"io"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/internal/config"
)

func TestBenchConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c benchConfig)
	}{
		{name: "defaults", check: func(t *testing.T, c benchConfig) {
			p, err := c.params()
			if err != nil || p.Runs != 5 || p.Concurrency != 20 || len(p.Sizes) != 3 || p.Sizes[2] != 8<<20 {
				t.Errorf("params = %+v, %v", p, err)
			}
		}},
		{name: "flags", args: []string{"--runs", "2", "--sizes", "4KiB,2MiB", "--concurrency", "7"}, check: func(t *testing.T, c benchConfig) {
			p, err := c.params()
			if err != nil || p.Runs != 2 || p.Concurrency != 7 || len(p.Sizes) != 2 || p.Sizes[0] != 4<<10 || p.Sizes[1] != 2<<20 {
				t.Errorf("params = %+v, %v", p, err)
			}
		}},
		{name: "bad size named", args: []string{"--sizes", "1GiB"}, wantErr: "sizes:"},
		{name: "no sizes", args: []string{"--sizes", ","}, wantErr: "sizes:"},
		{name: "runs named", args: []string{"--runs", "0"}, wantErr: "runs:"},
		{name: "concurrency named", args: []string{"--concurrency", "1000"}, wantErr: "concurrency:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultBenchConfig()
			_, err := config.Load(&c, config.Options{Name: "cdn bench", Summary: benchSummary, Output: io.Discard,
				Environ: []string{"PATH=/bin"}}, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

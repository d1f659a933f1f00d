package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/internal/config"
	"github.com/marquee-party/marquee/internal/obs"
)

type testConfig struct {
	Name string        `yaml:"name" usage:"a name"`
	Log  obs.LogConfig `yaml:"log"`
}

func TestStartAndExit(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int // -1: Start succeeds
		wantOut  string
	}{
		{name: "ok, warns about a typo", env: []string{"MARQUEE_NAEM=x"}, args: []string{"--log.format", "text"}, wantCode: -1, wantOut: "MARQUEE_NAEM"},
		{name: "help exits 0", args: []string{"--help"}, wantCode: 0, wantOut: "--name"},
		{name: "bad flag exits 2 naming it", args: []string{"--nmae", "x"}, wantCode: 2, wantOut: "nmae"},
		{name: "bad log level exits 2", args: []string{"--log.level", "loud"}, wantCode: 2, wantOut: "log.level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig{Log: obs.DefaultLogConfig()}
			var out bytes.Buffer
			log, _, err := Start(&out, &cfg, &cfg.Log, config.Options{Name: "t", Output: &out, Environ: tt.env}, tt.args)
			code := -1
			if err != nil {
				code = Exit(&out, err)
			} else if log == nil {
				t.Fatal("Start returned no logger and no error")
			}
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("code %d, output %q; want %d containing %q", code, out.String(), tt.wantCode, tt.wantOut)
			}
		})
	}
}

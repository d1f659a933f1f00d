package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/internal/config"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" means it loads
		check   func(t *testing.T, c sfuConfig)
	}{
		{"dev", []string{"--dev"}, "", func(t *testing.T, c sfuConfig) {
			if c.Listen != "127.0.0.1:7880" || c.SFU.Keys["devkey"] != "secret" || c.SFU.RTC.UDPPort != 7882 ||
				!c.SFU.RTC.LoopbackCandidates || c.SFU.RTC.BindIP != "127.0.0.1" ||
				c.SFU.TURN.Enabled != "auto" || c.SFU.TURN.UDPPort != 3478 {
				t.Fatalf("dev config %+v", c)
			}
		}},
		{"no keys", nil, "sfu.keys", nil},
		{"keys and node ip", []string{"--sfu.keys=prod=0123456789abcdef", "--sfu.rtc.node_ip=203.0.113.7"}, "",
			func(t *testing.T, c sfuConfig) {
				if c.Listen != ":7880" || c.SFU.RTC.NodeIP != "203.0.113.7" || c.SFU.RTC.ICETCP {
					t.Fatalf("config %+v", c)
				}
			}},
		{"bad range", []string{"--dev", "--sfu.rtc.port_range_start=50000"}, "sfu.rtc.port_range_start", nil},
		{"bad turn switch", []string{"--dev", "--sfu.turn.enabled=maybe"}, "sfu.turn.enabled", nil},
		{"turn on without a relay ip", []string{"--sfu.keys=prod=0123456789abcdef", "--sfu.turn.enabled=true"}, "sfu.turn.relay_ip", nil},
		{"turn relay ip", []string{"--sfu.keys=prod=0123456789abcdef", "--sfu.turn.enabled=true", "--sfu.turn.relay_ip=10.1.2.3"}, "",
			func(t *testing.T, c sfuConfig) {
				if c.SFU.TURN.RelayIP != "10.1.2.3" {
					t.Fatalf("config %+v", c.SFU.TURN)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			var out bytes.Buffer
			_, err := config.Load(&cfg, config.Options{Name: "sfu", Dev: applyDev, Output: &out, Environ: []string{}}, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
	cfg := defaultConfig()
	var out bytes.Buffer
	if _, err := config.Load(&cfg, config.Options{Name: "sfu", Output: &out, Environ: []string{}}, []string{"--help"}); !errors.Is(err, config.ErrHelp) ||
		!strings.Contains(out.String(), "--sfu.rtc.udp_port") {
		t.Fatalf("--help: %v\n%s", err, out.String())
	}
}

package rooms_test

import (
	"strings"
	"testing"

	"github.com/marquee-party/marquee/rooms"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*rooms.Config)
		errKey string // "" means valid
	}{
		{"dev", func(c *rooms.Config) {}, ""},
		{"no keys", func(c *rooms.Config) { c.Keys = nil }, "keys"},
		{"short secret", func(c *rooms.Config) { c.Keys = map[string]string{"k": "abc"} }, "keys"},
		{"range", func(c *rooms.Config) { c.RTC.PortRangeStart, c.RTC.PortRangeEnd = 50000, 50100 }, ""},
		{"half range", func(c *rooms.Config) { c.RTC.PortRangeStart = 50000 }, "rtc.port_range_start"},
		{"reversed range", func(c *rooms.Config) { c.RTC.PortRangeStart, c.RTC.PortRangeEnd = 50100, 50000 }, "rtc.port_range_start"},
		{"bad port", func(c *rooms.Config) { c.RTC.UDPPort = 70000 }, "rtc.udp_port"},
		{"bad node ip", func(c *rooms.Config) { c.RTC.NodeIP = "example.com" }, "rtc.node_ip"},
		{"bad bind ip", func(c *rooms.Config) { c.RTC.BindIP = "localhost" }, "rtc.bind_ip"},
		{"negative grace", func(c *rooms.Config) { c.ReconnectGrace = -1 }, "reconnect_grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rooms.DefaultConfig()
			c.ApplyDev()
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.errKey == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.errKey != "" && (err == nil || !strings.Contains(err.Error(), tt.errKey)):
				t.Fatalf("error %v, want one naming %s", err, tt.errKey)
			}
		})
	}
}

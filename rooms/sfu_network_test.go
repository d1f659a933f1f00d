package rooms_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/marquee-party/marquee/rooms"
)

// freePort finds a currently free TCP and UDP port number on loopback.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			_ = c.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// candidateFields parses "candidate:… <proto> <prio> <ip> <port> typ …"
// out of a trickled ICECandidateInit JSON.
func candidateFields(trickle *livekit.TrickleRequest) (proto, ip string, port int, tcptype string) {
	s := trickle.CandidateInit
	i := strings.Index(s, "candidate:")
	if i < 0 {
		return
	}
	f := strings.Fields(strings.SplitN(s[i:], `"`, 2)[0])
	if len(f) < 8 {
		return
	}
	port, _ = strconv.Atoi(f[5])
	for j := 8; j+1 < len(f); j++ {
		if f[j] == "tcptype" {
			tcptype = f[j+1]
		}
	}
	return strings.ToLower(f[2]), f[4], port, tcptype
}

// TestNetworkModes: the server's trickled candidates follow the config:
// one muxed UDP port, a port range, ICE-TCP on request, the node IP.
func TestNetworkModes(t *testing.T) {
	muxPort := freePort(t)
	tests := []struct {
		name   string
		mutate func(*rooms.Config)
		check  func(proto, ip string, port int, tcptype string) bool // true: the wanted candidate
	}{
		{"muxed udp port", func(c *rooms.Config) { c.RTC.UDPPort = muxPort },
			func(p, ip string, port int, _ string) bool { return p == "udp" && ip == "127.0.0.1" && port == muxPort }},
		{"port range", func(c *rooms.Config) { c.RTC.PortRangeStart, c.RTC.PortRangeEnd = 41000, 41100 },
			func(p, _ string, port int, _ string) bool { return p == "udp" && port >= 41000 && port <= 41100 }},
		{"ice tcp", func(c *rooms.Config) { c.RTC.UDPPort = freePort(t); c.RTC.ICETCP = true },
			func(p, _ string, _ int, tcptype string) bool { return p == "tcp" && tcptype == "passive" }},
		{"node ip", func(c *rooms.Config) { c.RTC.NodeIP = "203.0.113.7" },
			func(_, ip string, _ int, _ string) bool { return ip == "203.0.113.7" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSFU(t, tt.mutate)
			c, _ := dialRaw(t, s, token(t, "net", &auth.VideoGrant{RoomJoin: true, Room: "net"}), "")
			// The subscriber connection is offered at once and gathers.
			c.next(func(r *livekit.SignalResponse) bool {
				tr := r.GetTrickle()
				if tr == nil {
					return false
				}
				proto, ip, port, tcptype := candidateFields(tr)
				t.Logf("candidate %s %s:%d %s", proto, ip, port, tcptype)
				return tt.check(proto, ip, port, tcptype)
			})
		})
	}
}

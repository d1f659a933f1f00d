package rooms

import (
	"fmt"
	"net"
	"time"
)

// Config is the SFU's part of cmd/sfu's configuration.
type Config struct {
	// Keys maps API keys to their secrets; tokens are checked against them.
	Keys map[string]string `yaml:"keys" usage:"API key=secret pairs that sign access tokens (comma list)"`
	// RTC configures the media transport.
	RTC RTCConfig `yaml:"rtc"`
	// TURN configures the embedded TURN relay.
	TURN TURNConfig `yaml:"turn"`
	// ReconnectGrace is how long a participant whose signal connection
	// dropped is kept for a resume before it leaves the room.
	ReconnectGrace time.Duration `yaml:"reconnect_grace" usage:"how long a disconnected participant may resume before it leaves"`
	// SignalKeepalive is the WebSocket ping interval; a ping unanswered for
	// that long drops the signal connection (then ReconnectGrace applies).
	SignalKeepalive time.Duration `yaml:"signal_keepalive" usage:"WebSocket ping interval; a missed pong drops the signal connection (0: 10s)"`
	// EmptyTimeout closes a room this long after its last participant left.
	EmptyTimeout time.Duration `yaml:"empty_timeout" usage:"close a room this long after it empties (0: default 5m)"`
	// MaxParticipants caps each room; 0 means no cap.
	MaxParticipants int `yaml:"max_participants" usage:"maximum participants per room (0: unlimited)"`
	// Limit caps sizes and rates of what participants send (LiveKit's
	// limit section, with its defaults).
	Limit LimitConfig `yaml:"limit"`
}

// RTCConfig configures ICE and the media sockets.
type RTCConfig struct {
	// UDPPort is the single UDP port all media is muxed on.
	UDPPort int `yaml:"udp_port" usage:"single muxed UDP port for all media"`
	// PortRangeStart and PortRangeEnd, when both set, replace the muxed port
	// with one ephemeral UDP port per peer connection from this range.
	PortRangeStart int `yaml:"port_range_start" usage:"first UDP port of an optional per-connection range (replaces udp_port)"`
	PortRangeEnd   int `yaml:"port_range_end" usage:"last UDP port of the optional range"`
	// BindIP is the address the media socket binds; empty means all.
	BindIP string `yaml:"bind_ip" usage:"IP the media socket binds (empty: all interfaces)"`
	// NodeIP is advertised in host candidates instead of the local
	// addresses (1:1 NAT), e.g. the public IP of a cloud VM.
	NodeIP string `yaml:"node_ip" usage:"public IP advertised in ICE candidates (1:1 NAT)"`
	// ICETCP enables ICE over TCP on the same port number as UDPPort.
	ICETCP bool `yaml:"ice_tcp" usage:"also accept ICE over TCP on udp_port's number"`
	// GSO sends the packets a subscriber gets in one writer turn (a video
	// frame's) as one UDP GSO write on the muxed port (udp(7) UDP_SEGMENT,
	// Linux 4.18+). Where the kernel or NIC refuses, the socket falls back
	// to one datagram per write by itself.
	GSO bool `yaml:"gso" usage:"batch each subscriber's packets into UDP GSO writes on the muxed port (Linux; falls back by itself)"`
	// DirectSRTP sends to viewers whose connection only receives media
	// with Marquee's own SRTP path on the muxed port, keyed from pion's
	// DTLS handshake, and reads their RTCP straight off the socket: pion's
	// per-packet layers and goroutine hand-offs are skipped. Pion still
	// negotiates SDP, ICE and DTLS.
	DirectSRTP bool `yaml:"direct_srtp" usage:"send to receive-only viewers on Marquee's own SRTP path on the muxed port (skips pion's per-packet layers)"`
	// LoopbackCandidates offers 127.0.0.1 candidates, for sealed local tests.
	LoopbackCandidates bool `yaml:"loopback_candidates" usage:"offer loopback ICE candidates (dev and tests)"`
}

// TURNConfig configures the SFU's embedded TURN relay (RFC 8656), which
// the JoinResponse and ReconnectResponse hand to every participant. Its
// point is a host whose only interface is lo: WebRTC clients (pion by
// default, following RFC 8445 section 5.1.1.1) gather no loopback host
// candidates there, but they do gather a relayed candidate through a TURN
// server on 127.0.0.1, and that pairs with the SFU's loopback candidate.
// The relay only ever sends to the SFU's own media address.
type TURNConfig struct {
	// Enabled is auto (on when rtc.loopback_candidates is, as with
	// --dev), true or false.
	Enabled string `yaml:"enabled" usage:"run the TURN relay clients on a loopback-only host reach the SFU through: auto (on with rtc.loopback_candidates, as with --dev), true or false"`
	// UDPPort is the relay's UDP listening port (0: any free port).
	UDPPort int `yaml:"udp_port" usage:"UDP port of the TURN relay"`
	// RelayIP is where the relay listens and allocates relayed addresses;
	// empty means rtc.bind_ip, else 127.0.0.1 with loopback candidates.
	RelayIP string `yaml:"relay_ip" usage:"IP the TURN relay listens and relays on (empty: rtc.bind_ip, or 127.0.0.1 with rtc.loopback_candidates)"`
	// MaxAllocations bounds the relay's allocations at once.
	MaxAllocations int `yaml:"max_allocations" usage:"most TURN allocations at once (a client uses one per peer connection)"`
}

// The values of turn.enabled.
const (
	TURNAuto = "auto"
	TURNOn   = "true"
	TURNOff  = "false"
)

// turnOn reports whether the relay runs under c.
func (c Config) turnOn() bool {
	switch c.TURN.Enabled {
	case TURNOn:
		return true
	case TURNAuto, "":
		return c.RTC.LoopbackCandidates
	}
	return false
}

// turnRelayIP is the relay's address: turn.relay_ip, else rtc.bind_ip,
// else loopback when the SFU offers loopback candidates; nil when none
// applies.
func (c Config) turnRelayIP() net.IP {
	switch {
	case c.TURN.RelayIP != "":
		return net.ParseIP(c.TURN.RelayIP)
	case c.RTC.BindIP != "":
		return net.ParseIP(c.RTC.BindIP)
	case c.RTC.LoopbackCandidates:
		return net.IPv4(127, 0, 0, 1)
	}
	return nil
}

// validateTURN checks the turn.* keys.
func (c Config) validateTURN() error {
	t := c.TURN
	switch t.Enabled {
	case TURNAuto, TURNOn, TURNOff, "":
	default:
		return fmt.Errorf("turn.enabled: %q is not auto, true or false", t.Enabled)
	}
	if t.RelayIP != "" && net.ParseIP(t.RelayIP) == nil {
		return fmt.Errorf("turn.relay_ip: %q is not an IP address", t.RelayIP)
	}
	if !c.turnOn() {
		return nil
	}
	switch {
	case t.UDPPort < 0 || t.UDPPort > 65535:
		return fmt.Errorf("turn.udp_port: %d is not a port", t.UDPPort)
	case t.MaxAllocations < 1:
		return fmt.Errorf("turn.max_allocations: %d, at least 1 is needed while the relay is on", t.MaxAllocations)
	case c.turnRelayIP() == nil:
		return fmt.Errorf("turn.relay_ip: required with turn.enabled=true (no rtc.bind_ip or rtc.loopback_candidates to take it from)")
	case c.turnRelayIP().To4() == nil:
		return fmt.Errorf("turn.relay_ip: %s is IPv6, but clients relay over IPv4 only: set an IPv4 turn.relay_ip or turn.enabled=false", c.turnRelayIP())
	}
	return nil
}

// DefaultConfig is the production default: media on UDP 7882, no keys.
func DefaultConfig() Config {
	return Config{
		RTC:             RTCConfig{UDPPort: 7882, GSO: true, DirectSRTP: true},
		TURN:            TURNConfig{Enabled: TURNAuto, UDPPort: 3478, MaxAllocations: 256},
		ReconnectGrace:  15 * time.Second,
		SignalKeepalive: 10 * time.Second,
		EmptyTimeout:    5 * time.Minute,
		Limit:           DefaultLimits(),
	}
}

// ApplyDev switches c to development mode: loopback only, LiveKit's
// well-known devkey/secret pair; turn.enabled=auto then runs the relay.
func (c *Config) ApplyDev() {
	c.Keys = map[string]string{"devkey": "secret"}
	c.RTC.BindIP = "127.0.0.1"
	c.RTC.LoopbackCandidates = true
}

// Validate reports the first bad key by name.
func (c Config) Validate() error {
	if len(c.Keys) == 0 {
		return fmt.Errorf("keys: at least one API key=secret pair is required (or use --dev)")
	}
	for k, s := range c.Keys {
		if k == "" || len(s) < 6 {
			return fmt.Errorf("keys: key %q needs a non-empty name and a secret of at least 6 characters", k)
		}
	}
	r := c.RTC
	if (r.PortRangeStart == 0) != (r.PortRangeEnd == 0) {
		return fmt.Errorf("rtc.port_range_start and rtc.port_range_end must be set together")
	}
	if r.PortRangeStart != 0 && (r.PortRangeStart > r.PortRangeEnd || r.PortRangeEnd > 65535) {
		return fmt.Errorf("rtc.port_range_start..rtc.port_range_end: %d..%d is not a valid range", r.PortRangeStart, r.PortRangeEnd)
	}
	if r.PortRangeStart == 0 && (r.UDPPort < 0 || r.UDPPort > 65535) {
		return fmt.Errorf("rtc.udp_port: %d is not a port", r.UDPPort)
	}
	if r.BindIP != "" && net.ParseIP(r.BindIP) == nil {
		return fmt.Errorf("rtc.bind_ip: %q is not an IP address", r.BindIP)
	}
	if r.NodeIP != "" && net.ParseIP(r.NodeIP) == nil {
		return fmt.Errorf("rtc.node_ip: %q is not an IP address", r.NodeIP)
	}
	if c.ReconnectGrace < 0 || c.EmptyTimeout < 0 || c.MaxParticipants < 0 {
		return fmt.Errorf("reconnect_grace, empty_timeout and max_participants must not be negative")
	}
	if c.SignalKeepalive != 0 && c.SignalKeepalive < time.Second {
		return fmt.Errorf("signal_keepalive: %v is too short (at least 1s; 0 means 10s)", c.SignalKeepalive)
	}
	if err := c.Limit.validate(); err != nil {
		return err
	}
	return c.validateTURN()
}

package rooms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// turnRealm is the relay's REALM attribute (RFC 8489 section 14.9).
const turnRealm = "marquee"

// turnCredentialTTL bounds a participant's TURN credentials. They are
// checked on every authenticated request, refreshes included (RFC 8656
// section 7), so they must outlast a film; a reconnect hands out new ones.
const turnCredentialTTL = 24 * time.Hour

// turnAllocationsPerUser bounds one participant's allocations: a client
// uses one per peer connection (two) and briefly more across an ICE
// restart.
const turnAllocationsPerUser = 6

// errNotSFU refuses a relayed datagram to anything but the SFU.
var errNotSFU = errors.New("turn: the relay only sends to the SFU's media address")

// turnRelay is the SFU's embedded TURN server (RFC 8656) on UDP. Its
// credentials are TURN REST style (draft-uberti-behave-turn-rest-00):
// username "<unix expiry>:<participant sid>", password the base64
// HMAC-SHA256 of the username under a secret derived from the API keys,
// so they need no state and are never logged.
//
// It is no open relay: permissions (RFC 8656 section 9) are granted only
// for the SFU's media IPs, every relayed socket drops datagrams to or
// from any other address and port, and allocations are bounded in total
// and per participant.
type turnRelay struct {
	srv    *turn.Server
	addr   string // ip:port it listens on
	url    string // turn:ip:port?transport=udp, handed to clients
	secret []byte
	relay  net.IP
	sfu    mediaAddrs
	log    *slog.Logger

	loops sync.WaitGroup // the server's read loop and each allocation's

	mu      sync.Mutex
	max     int
	total   int
	perUser map[string]int
}

// newTURNRelay starts the relay on cfg's relay IP and turn.udp_port; it
// relays to sfu only.
func newTURNRelay(cfg Config, sfu mediaAddrs, log *slog.Logger) (*turnRelay, error) {
	ip := cfg.turnRelayIP()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: cfg.TURN.UDPPort})
	if err != nil {
		return nil, fmt.Errorf("turn.udp_port: listen on %s:%d: %w", ip, cfg.TURN.UDPPort, err)
	}
	t := &turnRelay{secret: turnSecret(cfg.Keys), relay: ip, sfu: sfu, log: log.With("component", "turn"),
		max: cfg.TURN.MaxAllocations, perUser: map[string]int{}}
	t.addr = pc.LocalAddr().String()
	t.url = "turn:" + t.addr + "?transport=udp"
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	t.loops.Add(1)
	t.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:         turnRealm,
		AuthHandler:   t.authenticate,
		QuotaHandler:  t.quota,
		LoggerFactory: quiet,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: t.created,
			OnAllocationDeleted: t.deleted,
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            &loopConn{PacketConn: pc, done: t.loops.Done},
			RelayAddressGenerator: t,
			PermissionHandler:     t.permit,
		}},
	})
	if err != nil {
		t.loops.Done()
		_ = pc.Close()
		return nil, fmt.Errorf("turn: %w", err)
	}
	t.log.Info("turn relay listening", "url", t.url)
	return t, nil
}

// Close stops the relay and waits for its goroutines.
func (t *turnRelay) Close() error {
	err := t.srv.Close()
	t.loops.Wait()
	return err
}

// turnSecret derives the credential secret from the API key pairs.
func turnSecret(keys map[string]string) []byte {
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	mac := hmac.New(sha256.New, []byte("marquee turn credentials v1"))
	for _, k := range names {
		fmt.Fprintf(mac, "%d:%s=%d:%s;", len(k), k, len(keys[k]), keys[k])
	}
	return mac.Sum(nil)
}

// password is the credential of username.
func (t *turnRelay) password(username string) string {
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// iceServers are participant sid's relay and credentials, valid from now.
func (t *turnRelay) iceServers(sid string, now time.Time) []*livekit.ICEServer {
	if t == nil {
		return nil
	}
	user := strconv.FormatInt(now.Add(turnCredentialTTL).Unix(), 10) + ":" + sid
	return []*livekit.ICEServer{{Urls: []string{t.url}, Username: user, Credential: t.password(user)}}
}

// authenticate is the long-term credential check (RFC 8489 section
// 9.2): an unexpired username of ours gets the key of its password.
func (t *turnRelay) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	exp, sid, ok := strings.Cut(ra.Username, ":")
	if !ok || sid == "" {
		return "", nil, false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Now().Unix() > unix || ra.Realm != turnRealm {
		return "", nil, false
	}
	return ra.Username, turn.GenerateAuthKey(ra.Username, ra.Realm, t.password(ra.Username)), true
}

// quota admits an allocation while both bounds hold (RFC 8656 section
// 7.2: 486 Allocation Quota Reached otherwise).
func (t *turnRelay) quota(username, _ string, _ net.Addr) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	ok := t.total < t.max && t.perUser[username] < turnAllocationsPerUser
	if !ok {
		t.log.Warn("turn allocation refused: quota reached", "allocations", t.total)
	}
	return ok
}

func (t *turnRelay) created(_, _ net.Addr, _, userID, _ string, _ net.Addr, _ int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	t.perUser[userID]++
}

func (t *turnRelay) deleted(_, _ net.Addr, _, userID, _ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.perUser[userID] > 0 {
		t.total--
		if t.perUser[userID]--; t.perUser[userID] == 0 {
			delete(t.perUser, userID)
		}
	}
}

// allocations is the number of live allocations.
func (t *turnRelay) allocations() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

// permit grants permissions (and channels) only towards the SFU's IPs.
func (t *turnRelay) permit(_ net.Addr, peer net.IP) bool {
	return t.sfu.hasIP(peer)
}

// Validate is turn.RelayAddressGenerator's.
func (t *turnRelay) Validate() error { return nil }

// AllocatePacketConn opens a relayed address on the relay IP whose
// socket talks to the SFU only.
func (t *turnRelay) AllocatePacketConn(c turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if c.Network != "udp4" {
		return nil, nil, fmt.Errorf("turn: %s relays are not offered", c.Network)
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: t.relay})
	if err != nil {
		return nil, nil, err
	}
	t.loops.Add(1)
	return &sfuOnlyConn{loopConn: loopConn{PacketConn: pc, done: t.loops.Done}, sfu: t.sfu}, pc.LocalAddr(), nil
}

// AllocateListener refuses TCP relays (RFC 6062), which clients of the
// SFU never need.
func (t *turnRelay) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errors.New("turn: TCP relays are not offered")
}

// AllocateConn refuses TCP relays too.
func (t *turnRelay) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errors.New("turn: TCP relays are not offered")
}

// loopConn calls done once, when the goroutine reading it gets its final
// error: pion/turn closes its sockets without waiting for their readers,
// and this is how Close waits.
type loopConn struct {
	net.PacketConn
	once sync.Once
	done func()
}

func (c *loopConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err != nil {
		c.once.Do(c.done)
	}
	return n, addr, err
}

// sfuOnlyConn is a relayed socket: it sends to and hears from the SFU's
// media address only, whatever permissions say.
type sfuOnlyConn struct {
	loopConn
	sfu mediaAddrs
}

func (c *sfuOnlyConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); !ok || !c.sfu.has(ua) {
		return 0, errNotSFU
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *sfuOnlyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.loopConn.ReadFrom(p)
		if ua, ok := addr.(*net.UDPAddr); err != nil || (ok && c.sfu.has(ua)) {
			return n, addr, err
		}
	}
}

// mediaAddrs are the addresses the SFU's media sockets receive on: the
// relay's only destinations.
type mediaAddrs struct {
	ips          []net.IP
	portLo, port int // a port range, or portLo == port
}

// sfuMediaAddrs lists them: rtc.bind_ip, else every local address (and
// rtc.node_ip); the muxed socket's port, else rtc.port_range_*.
func sfuMediaAddrs(cfg RTCConfig, muxed net.Addr) (mediaAddrs, error) {
	var m mediaAddrs
	if ua, ok := muxed.(*net.UDPAddr); ok {
		m.portLo, m.port = ua.Port, ua.Port
	} else {
		m.portLo, m.port = cfg.PortRangeStart, cfg.PortRangeEnd
	}
	if cfg.BindIP != "" {
		m.ips = []net.IP{net.ParseIP(cfg.BindIP)}
		return m, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return m, fmt.Errorf("turn: local addresses: %w", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			m.ips = append(m.ips, ipn.IP)
		}
	}
	if cfg.NodeIP != "" {
		m.ips = append(m.ips, net.ParseIP(cfg.NodeIP))
	}
	return m, nil
}

func (m mediaAddrs) hasIP(ip net.IP) bool {
	for _, x := range m.ips {
		if x.Equal(ip) {
			return true
		}
	}
	return false
}

func (m mediaAddrs) has(a *net.UDPAddr) bool {
	return a.Port >= m.portLo && a.Port <= m.port && m.hasIP(a.IP)
}

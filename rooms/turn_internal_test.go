package rooms

import (
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// startTestRelay runs a relay whose only destination is sfu.
func startTestRelay(t *testing.T, sfu *net.UDPConn, maxAlloc int) *turnRelay {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ApplyDev()
	cfg.TURN.UDPPort, cfg.TURN.MaxAllocations = 0, maxAlloc
	port := sfu.LocalAddr().(*net.UDPAddr).Port
	r, err := newTURNRelay(cfg, mediaAddrs{ips: []net.IP{net.IPv4(127, 0, 0, 1)}, portLo: port, port: port},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("relay close: %v", err)
		}
	})
	return r
}

func listenLo(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// allocate makes a TURN allocation on r as user/pass.
func allocate(t *testing.T, r *turnRelay, user, pass string) (net.PacketConn, error) {
	t.Helper()
	conn := listenLo(t, "127.0.0.1")
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: r.addr, Username: user, Password: pass,
		Realm: turnRealm, Conn: conn, LoggerFactory: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err == nil {
		t.Cleanup(func() { _ = relayed.Close() })
	}
	return relayed, err
}

// credentials are what the JoinResponse hands participant sid.
func credentials(r *turnRelay, sid string) (string, string) {
	s := r.iceServers(sid, time.Now())[0]
	return s.Username, s.Credential
}

// read returns the next datagram on c.
func read(t *testing.T, c net.PacketConn) (string, net.Addr) {
	t.Helper()
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang bound, not an assertion
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n]), from
}

// TestTURNRelaysOnlyToSFU: an allocation with good credentials cannot
// send to, or hear from, anything but the SFU's media address: not
// another port of the same IP (which its permission covers), not another
// IP (no permission is granted).
func TestTURNRelaysOnlyToSFU(t *testing.T) {
	sfu, other, otherIP := listenLo(t, "127.0.0.1"), listenLo(t, "127.0.0.1"), listenLo(t, "127.0.0.2")
	r := startTestRelay(t, sfu, 8)
	user, pass := credentials(r, "PA_test")
	relayed, err := allocate(t, r, user, pass)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	if _, err := relayed.WriteTo([]byte("to another ip"), otherIP.LocalAddr()); err == nil {
		t.Error("a permission towards 127.0.0.2 was granted")
	}
	// Sent in this order, the relay handles them in this order: had the
	// first left the relay, it would be in other's buffer before the
	// second reaches the SFU.
	if _, err := relayed.WriteTo([]byte("to another port"), other.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, err := relayed.WriteTo([]byte("to the sfu"), sfu.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	got, from := read(t, sfu)
	if got != "to the sfu" {
		t.Fatalf("the SFU got %q", got)
	}
	// Anything the relay sent other came before this marker.
	if _, err := sfu.WriteTo([]byte("marker"), other.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if got, _ := read(t, other); got != "marker" {
		t.Fatalf("another port of the SFU's IP got %q through the relay", got)
	}
	// Inbound: what other sends first to the relayed address is dropped,
	// the SFU's answer comes through.
	if _, err := other.WriteTo([]byte("from another port"), from); err != nil {
		t.Fatal(err)
	}
	if _, err := sfu.WriteTo([]byte("from the sfu"), from); err != nil {
		t.Fatal(err)
	}
	if got, src := read(t, relayed); got != "from the sfu" || src.String() != sfu.LocalAddr().String() {
		t.Fatalf("the client got %q from %v, want the SFU's answer", got, src)
	}
}

// TestTURNRefusesBadCredentials: only unexpired credentials the SFU
// issued allocate; allocations are bounded.
func TestTURNRefusesBadCredentials(t *testing.T) {
	sfu := listenLo(t, "127.0.0.1")
	r := startTestRelay(t, sfu, 1)
	user, pass := credentials(r, "PA_good")
	expired := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10) + ":PA_old"
	other := &turnRelay{secret: turnSecret(map[string]string{"devkey": "another secret"})}
	otherUser, otherPass := credentials(other, "PA_forged")
	for _, tt := range []struct{ name, user, pass string }{
		{"wrong password", user, pass + "x"},
		{"expired", expired, r.password(expired)},
		{"no participant", "99999999999", r.password("99999999999")},
		{"another SFU's key", otherUser, otherPass},
	} {
		if _, err := allocate(t, r, tt.user, tt.pass); err == nil {
			t.Errorf("%s: allocation granted", tt.name)
		}
	}
	if _, err := allocate(t, r, user, pass); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	u2, p2 := credentials(r, "PA_second")
	if _, err := allocate(t, r, u2, p2); err == nil {
		t.Error("turn.max_allocations=1 let a second allocation in")
	}
}

package dtlskeys

import (
	"fmt"
	"net"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// observedConn calls observe with every datagram it reads.
type observedConn struct {
	net.PacketConn
	observe func(b []byte, from net.Addr)
}

func (o *observedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := o.PacketConn.ReadFrom(b)
	if n > 0 && o.observe != nil {
		o.observe(b[:n], from)
	}
	return n, from, err
}

// listenUDP opens a loopback UDP socket closed at the end of the test.
func listenUDP(t testing.TB) net.PacketConn {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

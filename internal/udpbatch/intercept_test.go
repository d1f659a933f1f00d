package udpbatch

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestInterceptConsumesBeforeReader checks that datagrams Intercept takes
// never reach ReadFrom or ReadFromAddrPort, that the others do, unchanged
// and in order, and that Intercept sees the sender's address.
func TestInterceptConsumesBeforeReader(t *testing.T) {
	var mu sync.Mutex
	var taken [][]byte
	var senders []netip.AddrPort
	c := newConn(t, Options{Intercept: func(b []byte, from netip.AddrPort) bool {
		if len(b) == 0 || b[0] != 'x' {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		taken = append(taken, bytes.Clone(b))
		senders = append(senders, from)
		return true
	}})
	src, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	to := c.LocalAddr().(*net.UDPAddr)
	for _, m := range []string{"x1", "a", "x2", "x3", "b"} {
		if _, err := src.WriteToUDP([]byte(m), to); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, from, err := c.ReadFromAddrPort(buf)
	if err != nil || string(buf[:n]) != "a" {
		t.Fatalf("first read: %q, %v; want \"a\"", buf[:n], err)
	}
	if from != src.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("first read from %v, want %v", from, src.LocalAddr())
	}
	n, addr, err := c.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "b" {
		t.Fatalf("second read: %q, %v; want \"b\"", buf[:n], err)
	}
	if addr.(*net.UDPAddr).AddrPort() != from {
		t.Fatalf("ReadFrom address %v, want %v", addr, from)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(taken) != 3 || string(taken[0]) != "x1" || string(taken[2]) != "x3" {
		t.Fatalf("intercepted %q, want x1 x2 x3", taken)
	}
	for _, s := range senders {
		if s != from {
			t.Fatalf("intercept saw sender %v, want %v", s, from)
		}
	}
}

package udpbatch

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestRawSocketBothFamilies: on an IPv4 socket and on a dual-stack IPv6
// one, the raw calls send plain and GSO datagrams to an IPv4 peer and
// read the peer's reply with the source address the net package would
// give (IPv4-mapped on the dual-stack socket).
func TestRawSocketBothFamilies(t *testing.T) {
	for _, c := range []struct {
		name, network string
		ip            net.IP
		wantFrom      func(netip.AddrPort) netip.AddrPort
	}{
		{"ipv4", "udp4", net.IPv4(127, 0, 0, 1), func(a netip.AddrPort) netip.AddrPort { return a }},
		{"dual-stack", "udp", nil, func(a netip.AddrPort) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			uc, err := net.ListenUDP(c.network, &net.UDPAddr{IP: c.ip})
			if err != nil {
				t.Skipf("no %s socket here: %v", c.network, err)
			}
			conn := New(uc, Options{})
			t.Cleanup(func() { _ = conn.Close() })
			if conn.raw == nil {
				t.Fatal("no raw socket on Linux")
			}
			r := newReceiver(t)
			one := bytes.Repeat([]byte{1}, 300)
			if _, err := conn.WriteToAddrPort(one, r.addr()); err != nil {
				t.Fatal(err)
			}
			r.expect(one)
			conn.Hold(r.addr())
			a, b := bytes.Repeat([]byte{2}, 1200), bytes.Repeat([]byte{3}, 700)
			_, _ = conn.WriteToAddrPort(a, r.addr())
			_, _ = conn.WriteToAddrPort(a, r.addr())
			_, _ = conn.WriteToAddrPort(b, r.addr())
			if err := conn.Release(r.addr()); err != nil {
				t.Fatal(err)
			}
			r.expect(a, a, b)

			port := uc.LocalAddr().(*net.UDPAddr).Port
			to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
			if _, err := r.conn.WriteToUDP([]byte("reply"), to); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, from, err := conn.ReadFromAddrPort(buf)
			if err != nil || string(buf[:n]) != "reply" {
				t.Fatalf("read %q, %v", buf[:n], err)
			}
			if want := c.wantFrom(r.addr()); from != want {
				t.Errorf("reply from %v, want %v", from, want)
			}
			// A read past its deadline times out as the net package's does.
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, _, err := conn.ReadFromAddrPort(buf); err == nil {
				t.Fatal("read returned without data")
			} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				t.Fatalf("read error %v is not a timeout", err)
			}
		})
	}
}

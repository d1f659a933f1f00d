// Test helpers: loopback receivers, payloads, checks.

package udpbatch

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// receiver is a loopback UDP socket tests read datagrams from.
type receiver struct {
	t    testing.TB
	conn *net.UDPConn
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(4 << 20)
	t.Cleanup(func() { _ = conn.Close() })
	return &receiver{t: t, conn: conn}
}

func (r *receiver) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// next returns the next datagram, or nil if none arrives within wait.
func (r *receiver) next(wait time.Duration) []byte {
	r.t.Helper()
	buf := make([]byte, 70000)
	_ = r.conn.SetReadDeadline(time.Now().Add(wait))
	n, _, err := r.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		r.t.Fatalf("read: %v", err)
	}
	return buf[:n]
}

// expect reads len(want) datagrams and checks they equal want, in order.
func (r *receiver) expect(want ...[]byte) {
	r.t.Helper()
	for i, w := range want {
		got := r.next(2 * time.Second)
		if got == nil {
			r.t.Fatalf("datagram %d of %d: nothing arrived", i, len(want))
		}
		if !bytes.Equal(got, w) {
			r.t.Fatalf("datagram %d: got %d bytes (first %x), want %d bytes (first %x)", i, len(got), head(got), len(w), head(w))
		}
	}
}

// expectNothing checks that no datagram arrives for a short while.
func (r *receiver) expectNothing() {
	r.t.Helper()
	if got := r.next(50 * time.Millisecond); got != nil {
		r.t.Fatalf("unexpected datagram of %d bytes", len(got))
	}
}

func head(b []byte) []byte { return b[:min(len(b), 4)] }

func newConn(t testing.TB, opts Options) *Conn {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := New(uc, opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// payload returns a datagram of size bytes tagged with id.
func payload(id, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(id*7 + i)
	}
	copy(b, fmt.Sprintf("%04d", id))
	return b
}

func payloads(sizes ...int) [][]byte {
	out := make([][]byte, len(sizes))
	for i, s := range sizes {
		out[i] = payload(i, s)
	}
	return out
}

// write writes each datagram, reusing one buffer to check the Conn copies.
func write(t testing.TB, c *Conn, to netip.AddrPort, ds [][]byte) {
	t.Helper()
	buf := make([]byte, 70000)
	for _, d := range ds {
		b := buf[:len(d)]
		copy(b, d)
		n, err := c.WriteToAddrPort(b, to)
		if err != nil || n != len(d) {
			t.Fatalf("WriteToAddrPort = %d, %v; want %d, nil", n, err, len(d))
		}
		clear(b)
	}
}

func requireGSO(t *testing.T, c *Conn) {
	t.Helper()
	if !c.GSO() {
		t.Skip("UDP GSO not available on this system")
	}
}

func checkEmpty(t *testing.T, c *Conn) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.dests) != 0 {
		t.Fatalf("%d destinations still tracked after last Release", len(c.dests))
	}
}

// sendHeld writes ds to r under one Hold, releases, and checks that r got
// exactly ds, in order.
func sendHeld(t *testing.T, c *Conn, r *receiver, ds [][]byte) {
	t.Helper()
	c.Hold(r.addr())
	write(t, c, r.addr(), ds)
	if err := c.Release(r.addr()); err != nil {
		t.Fatal(err)
	}
	r.expect(ds...)
}

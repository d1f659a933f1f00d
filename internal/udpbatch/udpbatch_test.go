package udpbatch

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestUnheldWritesGoStraightOut(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	for i, d := range payloads(1200, 1, 500) {
		write(t, c, r.addr(), [][]byte{d})
		r.expect(d) // arrives before the next write
		if s := c.Stats(); s.Datagrams != uint64(i+1) || s.Syscalls != uint64(i+1) {
			t.Fatalf("stats %+v after %d writes", s, i+1)
		}
	}
	// net.PacketConn's WriteTo too.
	d := payload(9, 300)
	if _, err := c.WriteTo(d, net.UDPAddrFromAddrPort(r.addr())); err != nil {
		t.Fatal(err)
	}
	r.expect(d)
	if _, err := c.WriteTo(d, &net.IPAddr{}); err == nil {
		t.Fatal("WriteTo with a non-UDP address succeeded")
	}
	checkEmpty(t, c)
}

func TestHeldWritesWaitForRelease(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	requireGSO(t, c)
	ds := payloads(1200, 1200, 1200, 1200, 700)
	c.Hold(r.addr())
	write(t, c, r.addr(), ds)
	r.expectNothing()
	if err := c.Release(r.addr()); err != nil {
		t.Fatal(err)
	}
	r.expect(ds...)
	s := c.Stats()
	if s.Datagrams != 5 || s.Syscalls != 1 || s.GSOSends != 1 {
		t.Fatalf("stats %+v, want 5 datagrams in 1 GSO send", s)
	}
	checkEmpty(t, c)
}

func TestMixedSizesFlushEarlyInOrder(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	requireGSO(t, c)
	ds := payloads(1200, 1200, 800, 1200, 1300)
	c.Hold(r.addr())
	write(t, c, r.addr(), ds[:3])
	r.expectNothing()
	write(t, c, r.addr(), ds[3:4]) // cannot follow the short 800: first run goes
	r.expect(ds[:3]...)
	write(t, c, r.addr(), ds[4:]) // larger than 1200: second run goes
	r.expect(ds[3])
	r.expectNothing()
	if err := c.Release(r.addr()); err != nil {
		t.Fatal(err)
	}
	r.expect(ds[4])
	if s := c.Stats(); s.Datagrams != 5 || s.Syscalls != 3 || s.GSOSends != 1 {
		t.Fatalf("stats %+v, want 5 datagrams in 3 sends, 1 GSO", s)
	}
	checkEmpty(t, c)
}

func TestNestedHoldsFromTwoGoroutines(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	ds := payloads(1000, 1000, 1000, 1000)
	c.Hold(r.addr())
	done := make(chan error)
	go func() {
		c.Hold(r.addr())
		write(t, c, r.addr(), ds[:2])
		done <- c.Release(r.addr())
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r.expectNothing() // still held by this goroutine
	write(t, c, r.addr(), ds[2:])
	r.expectNothing()
	if err := c.Release(r.addr()); err != nil {
		t.Fatal(err)
	}
	r.expect(ds...)
	if c.GSO() {
		if s := c.Stats(); s.Syscalls != 1 {
			t.Fatalf("stats %+v, want one send", s)
		}
	}
	if err := c.Release(r.addr()); err == nil {
		t.Fatal("Release without Hold succeeded")
	}
	checkEmpty(t, c)
}

func TestTwoDestinationsIndependent(t *testing.T) {
	c, r1, r2 := newConn(t, Options{}), newReceiver(t), newReceiver(t)
	d1, d2 := payloads(1200, 1200, 600), payloads(900, 900, 900, 900)
	c.Hold(r1.addr())
	c.Hold(r2.addr())
	write(t, c, r1.addr(), d1)
	write(t, c, r2.addr(), d2)
	if err := c.Release(r2.addr()); err != nil {
		t.Fatal(err)
	}
	r2.expect(d2...)
	r1.expectNothing()
	if err := c.Release(r1.addr()); err != nil {
		t.Fatal(err)
	}
	r1.expect(d1...)
	checkEmpty(t, c)
}

func TestOverLimitBurstSplit(t *testing.T) {
	for _, size := range []int{1200, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c, r := newConn(t, Options{}), newReceiver(t)
			requireGSO(t, c)
			sizes := make([]int, 100)
			for i := range sizes {
				sizes[i] = size
			}
			ds := payloads(sizes...)
			sendHeld(t, c, r, ds)
			// 1200: 54 fit 65507 bytes, then 46. 100: 64 segments, then 36.
			if s := c.Stats(); s.Datagrams != 100 || s.GSOSends != 2 || s.Syscalls != 2 {
				t.Fatalf("stats %+v, want 100 datagrams in 2 GSO sends", s)
			}
		})
	}
}

func TestOversizedDatagramGoesAlone(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	ds := payloads(maxSegmentSize+1, maxSegmentSize+1, 0, 200, 200)
	sendHeld(t, c, r, ds)
	if c.GSO() {
		if s := c.Stats(); s.Syscalls != 4 || s.GSOSends != 1 {
			t.Fatalf("stats %+v, want 4 sends, 1 GSO", s)
		}
	}
}

// TestGSOPathErrorPausesOnlyThatDestination: an EINVAL or EIO on one
// destination's GSO send (a viewer whose address vanished) resends that
// batch one by one and pauses GSO for that destination only, until the
// retry time; every other destination keeps GSO (issue #12.11).
func TestGSOPathErrorPausesOnlyThatDestination(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.EIO} {
		t.Run(errno.Error(), func(t *testing.T) {
			c, bad, good := newConn(t, Options{}), newReceiver(t), newReceiver(t)
			requireGSO(t, c)
			now := time.Unix(1000, 0)
			c.now = func() time.Time { return now }
			broken := true
			c.gsoErr = func(addr netip.AddrPort) error {
				if broken && addr == bad.addr() {
					return &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendmsg", errno)}
				}
				return nil
			}
			ds := payloads(1200, 1200, 1200, 400)
			sendHeld(t, c, bad, ds) // fails over to one by one
			if !c.GSO() {
				t.Fatal("one destination's error turned GSO off for the socket")
			}
			if s := c.Stats(); s.GSOFallbacks != 1 || s.GSOSends != 0 || s.Datagrams != 4 || s.GSOPausedDests != 1 {
				t.Fatalf("stats %+v, want 1 fallback, 4 datagrams, 1 paused destination", s)
			}
			sendHeld(t, c, good, ds) // another viewer: still one GSO send
			if s := c.Stats(); s.GSOSends != 1 || s.Syscalls != 6 {
				t.Fatalf("stats %+v, want the other destination's batch in 1 GSO send", s)
			}
			sendHeld(t, c, bad, ds) // paused: one by one without trying GSO
			if s := c.Stats(); s.GSOFallbacks != 1 || s.Syscalls != 10 {
				t.Fatalf("stats %+v, want 4 plain sends and no new GSO attempt", s)
			}
			broken = false
			now = now.Add(gsoRetryAfter)
			sendHeld(t, c, bad, ds) // retried, and the path works again
			if s := c.Stats(); s.GSOSends != 2 || s.GSOPausedDests != 0 {
				t.Fatalf("stats %+v, want GSO to the destination again after the retry time", s)
			}
		})
	}
}

// TestGSOUnsupportedTurnsOffForAll: ENOPROTOOPT means the kernel has no
// UDP_SEGMENT at all: GSO goes off for the socket.
func TestGSOUnsupportedTurnsOffForAll(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	requireGSO(t, c)
	c.gsoErr = func(netip.AddrPort) error {
		return &net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendmsg", syscall.ENOPROTOOPT)}
	}
	ds := payloads(1200, 1200, 1200, 400)
	sendHeld(t, c, r, ds)
	if c.GSO() {
		t.Fatal("GSO still on after ENOPROTOOPT")
	}
	sendHeld(t, c, r, ds)
	if s := c.Stats(); s.GSOFallbacks != 1 || s.Datagrams != 8 || s.Syscalls != 9 {
		t.Fatalf("stats %+v, want 1 fallback, 8 datagrams, 9 syscalls", s)
	}
}

func TestOtherSendErrorReturnedByRelease(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	requireGSO(t, c)
	c.gsoErr = func(netip.AddrPort) error { return syscall.EPERM }
	c.Hold(r.addr())
	write(t, c, r.addr(), payloads(1000, 1000))
	if err := c.Release(r.addr()); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("Release = %v, want EPERM", err)
	}
	if !c.GSO() {
		t.Fatal("GSO switched off by a non-GSO error")
	}
}

func TestDisableGSO(t *testing.T) {
	c, r := newConn(t, Options{DisableGSO: true}), newReceiver(t)
	if c.GSO() {
		t.Fatal("GSO on despite DisableGSO")
	}
	ds := payloads(1200, 1200, 1200)
	c.Hold(r.addr())
	write(t, c, r.addr(), ds)
	r.expectNothing()
	if err := c.Release(r.addr()); err != nil {
		t.Fatal(err)
	}
	r.expect(ds...)
	if s := c.Stats(); s.GSOSends != 0 || s.Syscalls != 3 || s.Datagrams != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMappedAddressForms(t *testing.T) {
	r := newReceiver(t)
	plain := r.addr()
	mapped := netip.AddrPortFrom(netip.AddrFrom16(plain.Addr().As16()), plain.Port())
	for _, tc := range []struct {
		name      string
		hold, wr  netip.AddrPort
		dualStack bool
	}{
		{"hold-mapped-write-plain", mapped, plain, false},
		{"hold-plain-write-mapped", plain, mapped, false},
		{"dualstack-socket", mapped, plain, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c *Conn
			if tc.dualStack {
				uc, err := net.ListenUDP("udp", &net.UDPAddr{})
				if err != nil {
					t.Skip("no dual-stack socket:", err)
				}
				c = New(uc, Options{})
				t.Cleanup(func() { _ = c.Close() })
			} else {
				c = newConn(t, Options{})
			}
			ds := payloads(1100, 1100, 1100)
			c.Hold(tc.hold)
			write(t, c, tc.wr, ds)
			r.expectNothing()
			if err := c.Release(tc.wr); err != nil {
				t.Fatal(err)
			}
			r.expect(ds...)
			if c.GSO() {
				if s := c.Stats(); s.GSOSends != 1 {
					t.Fatalf("stats %+v, want one GSO send", s)
				}
			}
			checkEmpty(t, c)
		})
	}
}

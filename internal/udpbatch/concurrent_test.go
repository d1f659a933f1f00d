package udpbatch

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// TestConcurrentWritersKeepOrder runs several writers per destination, each
// sending frames under its own Hold while others write unheld (like pion's
// RTCP/STUN writes), and checks that every datagram arrives and each
// writer's datagrams arrive in the order written.
func TestConcurrentWritersKeepOrder(t *testing.T) {
	c := newConn(t, Options{})
	const (
		dests   = 3
		writers = 4 // per destination: 3 holding, 1 unheld
		frames  = 60
		perF    = 5
	)
	rs := make([]*receiver, dests)
	for i := range rs {
		rs[i] = newReceiver(t)
	}
	var wg sync.WaitGroup
	for di, r := range rs {
		for w := range writers {
			wg.Go(func() {
				to := r.addr()
				if w%2 == 1 { // some writers use the mapped form
					to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
				}
				buf := make([]byte, 1200)
				seq := uint32(0)
				for f := range frames {
					held := w != writers-1
					if held {
						c.Hold(to)
					}
					for p := range perF {
						size := 1200
						if p == perF-1 {
							size = 300 + f
						}
						b := buf[:size]
						binary.BigEndian.PutUint32(b, uint32(di*writers+w))
						binary.BigEndian.PutUint32(b[4:], seq)
						seq++
						if _, err := c.WriteToAddrPort(b, to); err != nil {
							t.Errorf("write: %v", err)
						}
					}
					if held {
						if err := c.Release(to); err != nil {
							t.Errorf("release: %v", err)
						}
					}
				}
			})
		}
	}
	var rg sync.WaitGroup
	for di, r := range rs {
		rg.Go(func() {
			next := make(map[uint32]uint32)
			for range writers * frames * perF {
				d := r.next(5 * time.Second)
				if d == nil {
					t.Errorf("dest %d: missing datagrams (got so far %v)", di, next)
					return
				}
				id, seq := binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:])
				if seq != next[id] {
					t.Errorf("dest %d writer %d: seq %d, want %d", di, id, seq, next[id])
					return
				}
				next[id]++
			}
		})
	}
	wg.Wait()
	rg.Wait()
	checkEmpty(t, c)
	s := c.Stats()
	t.Logf("stats %+v", s)
	if want := uint64(dests * writers * frames * perF); s.Datagrams != want {
		t.Fatalf("Datagrams = %d, want %d", s.Datagrams, want)
	}
}

// TestSteadyStateNoAllocs checks that a Hold/write/Release cycle does not
// allocate once buffers are pooled.
func TestSteadyStateNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	c, r := newConn(t, Options{}), newReceiver(t)
	go func() {
		buf := make([]byte, 70000)
		for {
			if _, _, err := r.conn.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	to, b := r.addr(), make([]byte, 1200)
	allocs := testing.AllocsPerRun(200, func() {
		c.Hold(to)
		for range 5 {
			_, _ = c.WriteToAddrPort(b, to)
		}
		_ = c.Release(to)
	})
	if allocs > 0 {
		t.Fatalf("%.1f allocations per frame, want 0", allocs)
	}
}

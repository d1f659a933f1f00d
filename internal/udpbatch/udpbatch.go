// Package udpbatch wraps a *net.UDPConn so that bursts of datagrams to one
// destination leave the process in as few syscalls as possible.
//
// A caller brackets a burst with [Conn.Hold] and [Conn.Release]; datagrams
// written to a held destination are copied into a per-destination batch and
// sent when the last holder releases. On Linux the batch goes out with UDP
// generic segmentation offload: one sendmsg carrying a UDP_SEGMENT control
// message (udp(7), Linux 4.18 and later) and a buffer of equal-size segments,
// which the kernel splits into separate datagrams (the last one may be
// shorter). Where GSO is unavailable the batch is sent one datagram at a time.
//
// The Conn implements net.PacketConn and the optional netip-based methods
// pion/ice's UDPMux looks for (ReadFromAddrPort, WriteToAddrPort), so it can
// be passed as ice.UDPMuxParams.UDPConn.
package udpbatch

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configures a Conn.
type Options struct {
	// DisableGSO sends held datagrams one by one (still coalesced per
	// Release) instead of as UDP_SEGMENT super-datagrams.
	DisableGSO bool
	// Logger receives the one-off warning when GSO is switched off. Nil
	// discards.
	Logger *slog.Logger
	// Intercept, when set, sees each datagram read before the reader does.
	// When it returns true the datagram is consumed and the read waits for
	// the next one. It runs on the reading goroutine and must not keep b.
	Intercept func(b []byte, from netip.AddrPort) bool
}

// Stats are cumulative counters of a Conn's sending.
type Stats struct {
	// Datagrams is the number of datagrams handed to the kernel successfully.
	Datagrams uint64
	// Syscalls is the number of send syscalls made (sendto or sendmsg),
	// successful or not.
	Syscalls uint64
	// GSOSends is the number of successful UDP_SEGMENT sendmsg calls.
	GSOSends uint64
	// GSOFallbacks is the number of batches whose GSO send failed with an
	// error meaning "no GSO here" and that were resent one by one.
	GSOFallbacks uint64
	// GSOPausedDests is how many destinations currently get their batches
	// one by one after a GSO error on their path (retried later).
	GSOPausedDests int
}

// Conn is a batching net.PacketConn over a *net.UDPConn. It is safe for
// concurrent use.
type Conn struct {
	conn      *net.UDPConn
	log       *slog.Logger
	gso       atomic.Bool // GSO sends enabled
	intercept func(b []byte, from netip.AddrPort) bool
	raw       *rawSocket // nil: every call goes through the net package

	mu    sync.Mutex
	dests map[netip.AddrPort]*dest // held or still-draining destinations
	// noGSO holds destinations whose last GSO send failed with a path
	// error (EIO, EINVAL), and when to try GSO to them again: one bad
	// path (a viewer whose address vanished, a device without checksum
	// offload) must not cost every other viewer their GSO.
	noGSO map[netip.AddrPort]time.Time
	// now is the clock for noGSO; tests replace it.
	now func() time.Time

	// Reused batch state, so steady sending does not allocate.
	freeRuns, freeDests sync.Pool

	datagrams, syscalls, gsoSends, gsoFallbacks atomic.Uint64

	// gsoErr, when set (by tests, before the Conn is used), is called before
	// each GSO send to addr; a non-nil result is treated as that send's
	// error and nothing is sent.
	gsoErr func(addr netip.AddrPort) error
}

var (
	_ net.PacketConn = (*Conn)(nil)
	_ interface {
		ReadFromAddrPort(b []byte) (int, netip.AddrPort, error)
		WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error)
	} = (*Conn)(nil)
)

// New wraps conn. The Conn owns conn only: Close closes it. GSO is used when
// the socket supports it (probed once here) unless opts.DisableGSO is set.
func New(conn *net.UDPConn, opts Options) *Conn {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Conn{conn: conn, log: log, dests: make(map[netip.AddrPort]*dest), intercept: opts.Intercept,
		noGSO: make(map[netip.AddrPort]time.Time), now: time.Now}
	c.freeRuns.New = func() any { return &run{buf: make([]byte, 0, 8<<10)} }
	c.freeDests.New = func() any { return new(dest) }
	c.raw = newRawSocket(conn)
	if !opts.DisableGSO && probeGSO(conn) {
		c.gso.Store(true)
	}
	return c
}

// Stats returns a snapshot of the Conn's counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	paused := len(c.noGSO)
	c.mu.Unlock()
	return Stats{
		Datagrams:      c.datagrams.Load(),
		Syscalls:       c.syscalls.Load(),
		GSOSends:       c.gsoSends.Load(),
		GSOFallbacks:   c.gsoFallbacks.Load(),
		GSOPausedDests: paused,
	}
}

// GSO reports whether held batches are sent with UDP_SEGMENT on this
// socket (destinations paused after a path error aside).
func (c *Conn) GSO() bool { return c.gso.Load() }

// ReadFrom reads a datagram from the underlying connection (one that
// Options.Intercept did not consume).
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.ReadFromAddrPort(b)
	if err != nil {
		return n, nil, err
	}
	return n, net.UDPAddrFromAddrPort(from), nil
}

// ReadFromAddrPort reads a datagram from the underlying connection (one
// that Options.Intercept did not consume), returning the sender as a
// netip.AddrPort.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		n, from, err := c.read(b)
		if err != nil || c.intercept == nil || !c.intercept(b[:n], from) {
			return n, from, err
		}
	}
}

// WriteTo writes b to addr, which must be a *net.UDPAddr. See
// [Conn.WriteToAddrPort].
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*net.UDPAddr)
	if !ok || a == nil {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: c.conn.LocalAddr(), Addr: addr, Err: syscall.EINVAL}
	}
	return c.WriteToAddrPort(b, a.AddrPort())
}

// WriteToAddrPort writes b to addr. If addr is held (see [Conn.Hold]), or a
// batch for it is still being sent, b is copied into addr's batch and
// len(b), nil is returned; otherwise b is sent at once.
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	key := canonical(addr)
	c.mu.Lock()
	d := c.dests[key]
	if d == nil {
		c.mu.Unlock()
		n, err := c.write(b, addr)
		c.syscalls.Add(1)
		if err == nil {
			c.datagrams.Add(1)
		}
		return n, err
	}
	d.add(b, &c.freeRuns)
	drain := len(d.queue) > 0 && !d.sending
	if drain {
		d.sending = true
	}
	c.mu.Unlock()
	if drain {
		c.drain(key, d, true)
	}
	return len(b), nil
}

// read reads one datagram, with a raw system call where there is one.
func (c *Conn) read(b []byte) (int, netip.AddrPort, error) {
	if c.raw == nil {
		return c.conn.ReadFromUDPAddrPort(b)
	}
	n, from, err := c.raw.recvfrom(b)
	if err != nil {
		return 0, from, &net.OpError{Op: "read", Net: "udp", Source: c.conn.LocalAddr(), Err: err}
	}
	return n, from, nil
}

// write sends one datagram, with a raw system call where there is one.
func (c *Conn) write(b []byte, addr netip.AddrPort) (int, error) {
	if ok, err := c.writeMsg(b, nil, addr); ok {
		if err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.conn.WriteToUDPAddrPort(b, addr)
}

// writeMsg sends b with control data oob by a raw sendmsg; ok is false
// when there is no raw socket or it cannot reach addr, and nothing was sent.
func (c *Conn) writeMsg(b, oob []byte, addr netip.AddrPort) (ok bool, err error) {
	if c.raw == nil {
		return false, nil
	}
	ok, err = c.raw.sendmsg(b, oob, addr)
	if ok && err != nil {
		err = &net.OpError{Op: "write", Net: "udp", Source: c.conn.LocalAddr(), Addr: net.UDPAddrFromAddrPort(addr), Err: err}
	}
	return ok, err
}

// Close closes the underlying connection. Datagrams still buffered under a
// hold are dropped; their Release reports the send error.
func (c *Conn) Close() error { return c.conn.Close() }

// LocalAddr returns the underlying connection's local address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// SetDeadline sets the underlying connection's read and write deadlines.
// The write deadline also applies to batches sent by Release.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the underlying connection's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the underlying connection's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// canonical maps addr to the form pion/ice uses as a key: IPv4-mapped IPv6
// unmapped, zone dropped except for IPv6 link-local addresses.
func canonical(addr netip.AddrPort) netip.AddrPort {
	a := addr.Addr().Unmap()
	if !(a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast())) {
		a = a.WithZone("")
	}
	return netip.AddrPortFrom(a, addr.Port())
}

// errNotHeld is returned by Release without a matching Hold.
var errNotHeld = errors.New("udpbatch: release without hold")

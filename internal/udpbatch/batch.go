package udpbatch

import (
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// GSO limits. The kernel refuses a UDP_SEGMENT send with more than
// UDP_MAX_SEGMENTS segments (64 from Linux 4.18; later kernels allow more,
// 64 is safe everywhere), a payload that does not fit one IP datagram, or a
// segment that does not fit the device MTU.
const (
	maxSegments = 64
	// maxPayload is the largest UDP payload of one IPv4 datagram
	// (65535 - 20 byte IP header - 8 byte UDP header); IPv6 allows a little
	// more, we use the smaller for both.
	maxPayload = 65507
	// maxSegmentSize is the largest datagram that joins a batch: it fits a
	// 1500-byte MTU with an IPv6 header (1500 - 40 - 8). Longer datagrams
	// go alone, without GSO, so an oversized segment cannot make the kernel
	// refuse a whole batch.
	maxSegmentSize = 1452
)

// dest is the batching state of one destination. It exists while the
// destination is held or a batch for it is being sent (sending).
type dest struct {
	holds   int
	cur     *run   // run being filled, nil if none
	queue   []*run // closed runs waiting to be sent, in order
	sending bool   // a goroutine is draining queue
	err     error  // first error of a drain started by a write, for Release
}

// add appends a copy of b to d's current run (a new one from runs),
// closing the run first when b cannot join it. When d is not held (only
// draining) the run is closed at once so the drainer sends it. Called with
// c.mu held.
func (d *dest) add(b []byte, runs *sync.Pool) {
	if d.cur != nil && !d.cur.accepts(len(b)) {
		d.queue = append(d.queue, d.cur)
		d.cur = nil
	}
	if d.cur == nil {
		d.cur = runs.Get().(*run)
	}
	d.cur.add(b)
	if d.holds == 0 {
		d.queue = append(d.queue, d.cur)
		d.cur = nil
	}
}

// run is a sequence of datagrams sendable as one GSO send: n datagrams of
// seg bytes each, the last possibly shorter, stored back to back in buf.
type run struct {
	buf    []byte
	seg    int
	n      int
	closed bool // no datagram may be added (last was short, or alone)
	oob    []byte
}

func (r *run) accepts(size int) bool {
	return !r.closed && size > 0 && size <= r.seg && r.n < maxSegments && len(r.buf)+size <= maxPayload
}

func (r *run) add(b []byte) {
	if r.n == 0 {
		r.seg = len(b)
		r.closed = len(b) == 0 || len(b) > maxSegmentSize
	} else if len(b) < r.seg {
		r.closed = true
	}
	r.buf = append(r.buf, b...)
	r.n++
}

// datagram returns the i'th datagram of r.
func (r *run) datagram(i int) []byte {
	if r.n == 1 {
		return r.buf
	}
	return r.buf[i*r.seg : min((i+1)*r.seg, len(r.buf))]
}

func (r *run) reset() {
	r.buf, r.seg, r.n, r.closed = r.buf[:0], 0, 0, false
}

// Hold starts coalescing writes to addr. Every Hold needs exactly one
// Release; holds nest and may come from several goroutines.
func (c *Conn) Hold(addr netip.AddrPort) {
	key := canonical(addr)
	c.mu.Lock()
	d := c.dests[key]
	if d == nil {
		d = c.freeDests.Get().(*dest)
		c.dests[key] = d
	}
	d.holds++
	c.mu.Unlock()
}

// Release ends one Hold of addr. When the last holder releases, the
// datagrams buffered for addr are sent in order, each run of equal-size
// datagrams as one GSO send (or one by one without GSO), before Release
// returns — unless another goroutine is already sending addr's earlier
// batch, in which case that goroutine sends these too, in order, and
// Release returns at once. It returns the first send error it saw,
// including one from an early flush made while addr was held.
func (c *Conn) Release(addr netip.AddrPort) error {
	key := canonical(addr)
	c.mu.Lock()
	d := c.dests[key]
	if d == nil || d.holds == 0 {
		c.mu.Unlock()
		return fmt.Errorf("%w: %s", errNotHeld, addr)
	}
	d.holds--
	err := d.err
	d.err = nil
	if d.holds > 0 {
		c.mu.Unlock()
		return err
	}
	if d.cur != nil {
		d.queue = append(d.queue, d.cur)
		d.cur = nil
	}
	if d.sending {
		c.mu.Unlock()
		return err
	}
	if len(d.queue) == 0 {
		c.remove(key, d)
		c.mu.Unlock()
		return err
	}
	d.sending = true
	c.mu.Unlock()
	if derr := c.drain(key, d, false); err == nil {
		err = derr
	}
	return err
}

// remove forgets d. Called with c.mu held, d idle and unheld.
func (c *Conn) remove(key netip.AddrPort, d *dest) {
	delete(c.dests, key)
	*d = dest{queue: d.queue[:0]}
	c.freeDests.Put(d)
}

// drain sends d's queued runs in order until the queue is empty. The
// caller has set d.sending. Only one goroutine drains a dest at a time,
// which keeps per-destination order without holding c.mu across sends.
// With stash, errors are kept in d.err for the next Release instead of
// being returned.
func (c *Conn) drain(key netip.AddrPort, d *dest, stash bool) error {
	var first error
	for {
		c.mu.Lock()
		if stash && first != nil {
			if d.err == nil {
				d.err = first
			}
			first = nil
		}
		if len(d.queue) == 0 {
			d.sending = false
			if d.holds == 0 {
				if d.err != nil {
					c.log.Debug("udpbatch: send error with no holder left", "addr", key, "err", d.err)
				}
				c.remove(key, d)
			}
			c.mu.Unlock()
			return first
		}
		r := d.queue[0]
		n := copy(d.queue, d.queue[1:])
		d.queue[n] = nil
		d.queue = d.queue[:n]
		c.mu.Unlock()

		if err := c.sendRun(key, r); err != nil && first == nil {
			first = fmt.Errorf("udpbatch: send to %s: %w", key, err)
		}
		r.reset()
		c.freeRuns.Put(r)
	}
}

// gsoRetryAfter is how long a destination whose GSO send failed with a
// path error gets its batches one by one before GSO is tried again.
const gsoRetryAfter = time.Minute

// maxPausedDests bounds noGSO; past it, expired entries are dropped first
// and then the destination is simply not remembered (it retries GSO).
const maxPausedDests = 4096

// sendRun sends r to addr: one GSO sendmsg when possible, else one datagram
// per syscall. After a GSO error, r is resent one by one. An error meaning
// the kernel has no UDP_SEGMENT at all turns GSO off for the Conn; one
// that concerns this path (EIO, EINVAL) pauses GSO for addr only, for
// gsoRetryAfter.
func (c *Conn) sendRun(addr netip.AddrPort, r *run) error {
	if r.n > 1 && c.gso.Load() && c.gsoAllowed(addr) {
		err := c.sendGSO(addr, r)
		if err == nil {
			return nil
		}
		if !isGSOError(err) {
			return err
		}
		c.gsoFallbacks.Add(1)
		if isGSOUnsupported(err) {
			if c.gso.CompareAndSwap(true, false) {
				c.log.Warn("udpbatch: the kernel refuses UDP GSO, sending datagrams one by one from now on", "err", err)
			}
		} else {
			c.pauseGSO(addr, err)
		}
	}
	var first error
	for i := range r.n {
		_, err := c.write(r.datagram(i), addr)
		c.syscalls.Add(1)
		if err != nil {
			first = firstErr(first, err)
			continue
		}
		c.datagrams.Add(1)
	}
	return first
}

// gsoAllowed reports whether addr's GSO is not paused, forgetting a pause
// that has run out.
func (c *Conn) gsoAllowed(addr netip.AddrPort) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, paused := c.noGSO[addr]
	if !paused {
		return true
	}
	if c.now().Before(until) {
		return false
	}
	delete(c.noGSO, addr)
	return true
}

// pauseGSO sends addr's batches one by one for gsoRetryAfter.
func (c *Conn) pauseGSO(addr netip.AddrPort, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.noGSO) >= maxPausedDests {
		for a, until := range c.noGSO {
			if !now.Before(until) {
				delete(c.noGSO, a)
			}
		}
		if len(c.noGSO) >= maxPausedDests {
			return
		}
	}
	c.noGSO[addr] = now.Add(gsoRetryAfter)
	c.log.Debug("udpbatch: UDP GSO send failed on one path, sending to it one by one for a while",
		"addr", addr, "retry_after", gsoRetryAfter, "err", err)
}

func (c *Conn) sendGSO(addr netip.AddrPort, r *run) error {
	if h := c.gsoErr; h != nil {
		if err := h(addr); err != nil {
			c.syscalls.Add(1)
			return err
		}
	}
	r.oob = segmentCmsg(r.oob, uint16(r.seg))
	ok, err := c.writeMsg(r.buf, r.oob, addr)
	if !ok {
		_, _, err = c.conn.WriteMsgUDPAddrPort(r.buf, r.oob, addr)
	}
	c.syscalls.Add(1)
	if err != nil {
		return err
	}
	c.gsoSends.Add(1)
	c.datagrams.Add(uint64(r.n))
	return nil
}

// firstErr keeps the first non-nil error.
func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

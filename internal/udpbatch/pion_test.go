package udpbatch

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/ice/v4"
)

var _ ice.AddrPortReaderWriter = (*Conn)(nil)

// stunBindingRequest builds a minimal STUN Binding request carrying
// USERNAME, enough for pion's UDPMux to route it by ufrag.
func stunBindingRequest(username string) []byte {
	attr := make([]byte, 4+(len(username)+3)/4*4)
	binary.BigEndian.PutUint16(attr, 0x0006) // USERNAME
	binary.BigEndian.PutUint16(attr[2:], uint16(len(username)))
	copy(attr[4:], username)
	msg := make([]byte, 20, 20+len(attr))
	binary.BigEndian.PutUint16(msg, 0x0001) // Binding request
	binary.BigEndian.PutUint16(msg[2:], uint16(len(attr)))
	binary.BigEndian.PutUint32(msg[4:], 0x2112A442)
	copy(msg[8:20], "txid-1234567")
	return append(msg, attr...)
}

// TestPionUDPMux runs a Conn under pion's UDPMuxDefault: an inbound STUN
// request reaches the muxed conn for its ufrag, and the muxed conn's
// writes go through the Conn, batched while the remote address is held.
func TestPionUDPMux(t *testing.T) {
	c, r := newConn(t, Options{}), newReceiver(t)
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: c})
	t.Cleanup(func() { _ = mux.Close() })

	pc, err := mux.GetConn("ufrag", c.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	apc, ok := pc.(ice.AddrPortReaderWriter)
	if !ok {
		t.Fatalf("muxed conn %T does not expose AddrPortReaderWriter", pc)
	}

	req := stunBindingRequest("ufrag:remote")
	if _, err := r.conn.WriteToUDPAddrPort(req, c.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := apc.ReadFromAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != string(req) || from.Port() != r.addr().Port() {
		t.Fatalf("read %d bytes from %s, want the request from %s", n, from, r.addr())
	}

	ds := payloads(1200, 1200, 1200, 1200, 900)
	c.Hold(from)
	for _, d := range ds[:4] {
		if _, err := apc.WriteToAddrPort(d, from); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pc.WriteTo(ds[4], net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom16(from.Addr().As16()), from.Port()))); err != nil {
		t.Fatal(err)
	}
	r.expectNothing()
	if err := c.Release(from); err != nil {
		t.Fatal(err)
	}
	r.expect(ds...)
	if c.GSO() {
		if s := c.Stats(); s.GSOSends != 1 {
			t.Fatalf("stats %+v, want one GSO send", s)
		}
	}
}

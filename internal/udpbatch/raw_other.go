//go:build !linux

package udpbatch

import (
	"net"
	"net/netip"
)

// rawSocket is Linux-only; elsewhere the net package does every call.
type rawSocket struct{}

func newRawSocket(*net.UDPConn) *rawSocket { return nil }

func (*rawSocket) sendmsg([]byte, []byte, netip.AddrPort) (bool, error) { return false, nil }

func (*rawSocket) recvfrom([]byte) (int, netip.AddrPort, error) { return 0, netip.AddrPort{}, nil }

package udpbatch

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

// rawSocket sends and receives on the socket with syscall.RawSyscall
// instead of the net package's syscall.Syscall. The socket is
// non-blocking, so sendmsg and recvfrom return at once (EAGAIN when they
// would block, and then the RawConn waits on the netpoller as the net
// package does). What the raw call saves is the runtime's bookkeeping
// around a system call that may block: entersyscall/exitsyscall, waking
// sysmon from its deep sleep whenever the process had gone idle, and
// sysmon handing the P to another thread when a loopback send runs over
// 20 µs. An SFU makes tens of thousands of these calls a second, in short
// bursts, so that bookkeeping cost more CPU than the calls' Go side.
type rawSocket struct {
	rc     syscall.RawConn
	family int // the socket's address family: AF_INET or AF_INET6
	ops    sync.Pool
}

// rawOp is one call's arguments and results, reused through the pool so a
// send or receive does not allocate. fn is bound to the op once.
type rawOp struct {
	msg   syscall.Msghdr
	iov   syscall.Iovec
	sa    syscall.RawSockaddrInet6 // large enough for either family
	salen uint32
	n     uintptr
	errno syscall.Errno
	send  func(fd uintptr) bool
	recv  func(fd uintptr) bool
}

func newRawSocket(conn *net.UDPConn) *rawSocket {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	family := 0
	if err := rc.Control(func(fd uintptr) {
		switch sa, _ := syscall.Getsockname(int(fd)); sa.(type) {
		case *syscall.SockaddrInet4:
			family = syscall.AF_INET
		case *syscall.SockaddrInet6:
			family = syscall.AF_INET6
		}
	}); err != nil || family == 0 {
		return nil
	}
	s := &rawSocket{rc: rc, family: family}
	s.ops.New = func() any {
		op := &rawOp{}
		op.send = func(fd uintptr) bool {
			op.n, _, op.errno = syscall.RawSyscall(syscall.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&op.msg)), 0)
			return op.errno != syscall.EAGAIN
		}
		op.recv = func(fd uintptr) bool {
			op.salen = uint32(unsafe.Sizeof(op.sa))
			op.n, _, op.errno = syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(op.iov.Base)),
				uintptr(op.iov.Len), 0, uintptr(unsafe.Pointer(&op.sa)), uintptr(unsafe.Pointer(&op.salen)))
			return op.errno != syscall.EAGAIN
		}
		return op
	}
	return s
}

// setAddr writes addr as the op's destination; false when the socket's
// family cannot reach it or it needs a zone (the net package handles those).
func (s *rawSocket) setAddr(op *rawOp, addr netip.AddrPort) bool {
	a := addr.Addr()
	if a.Zone() != "" {
		return false
	}
	switch {
	case s.family == syscall.AF_INET && a.Unmap().Is4():
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&op.sa))
		*sa = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: a.Unmap().As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], addr.Port())
		op.msg.Namelen = syscall.SizeofSockaddrInet4
	case s.family == syscall.AF_INET6:
		op.sa = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: a.As16()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&op.sa.Port))[:], addr.Port())
		op.msg.Namelen = syscall.SizeofSockaddrInet6
	default:
		return false
	}
	op.msg.Name = (*byte)(unsafe.Pointer(&op.sa))
	return true
}

// sendmsg sends b (with control data oob, may be empty) to addr. handled
// is false when the op could not be set up and the caller should use the
// net package instead.
func (s *rawSocket) sendmsg(b, oob []byte, addr netip.AddrPort) (handled bool, err error) {
	if len(b) == 0 {
		return false, nil
	}
	op := s.ops.Get().(*rawOp)
	defer s.ops.Put(op)
	op.msg = syscall.Msghdr{}
	if !s.setAddr(op, addr) {
		return false, nil
	}
	op.iov.Base = &b[0]
	op.iov.SetLen(len(b))
	op.msg.Iov = &op.iov
	op.msg.Iovlen = 1
	if len(oob) > 0 {
		op.msg.Control = &oob[0]
		op.msg.SetControllen(len(oob))
	}
	op.errno = 0
	err = s.rc.Write(op.send)
	op.msg, op.iov = syscall.Msghdr{}, syscall.Iovec{} // keep no references to b
	if err != nil {
		return true, err
	}
	if op.errno != 0 {
		return true, os.NewSyscallError("sendmsg", op.errno)
	}
	return true, nil
}

// recvfrom reads one datagram into b.
func (s *rawSocket) recvfrom(b []byte) (int, netip.AddrPort, error) {
	if len(b) == 0 {
		return 0, netip.AddrPort{}, syscall.EINVAL
	}
	op := s.ops.Get().(*rawOp)
	defer s.ops.Put(op)
	op.iov.Base = &b[0]
	op.iov.SetLen(len(b))
	op.errno = 0
	err := s.rc.Read(op.recv)
	op.iov = syscall.Iovec{}
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if op.errno != 0 {
		return 0, netip.AddrPort{}, os.NewSyscallError("recvfrom", op.errno)
	}
	return int(op.n), op.from(), nil
}

// from decodes the source address recvfrom filled in.
func (op *rawOp) from() netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&op.sa.Port))[:])
	switch op.sa.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(&op.sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port)
	case syscall.AF_INET6:
		a := netip.AddrFrom16(op.sa.Addr)
		if op.sa.Scope_id != 0 {
			a = a.WithZone(zoneName(int(op.sa.Scope_id)))
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}

// zoneName names the interface of an IPv6 scope, as the net package does.
func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(index)
}

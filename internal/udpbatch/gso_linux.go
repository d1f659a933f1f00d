package udpbatch

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// udpSegment is UDP_SEGMENT from <linux/udp.h>, an option at level SOL_UDP
// (== IPPROTO_UDP, 17) whose value is the uint16 GSO segment size.
const udpSegment = 103

// probeGSO reports whether the kernel knows UDP_SEGMENT on conn's socket
// (getsockopt succeeds from Linux 4.18). Whether the egress device can
// actually segment is only learnt on the first send (EIO otherwise).
func probeGSO(conn *net.UDPConn) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		_, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpSegment)
	}); err != nil {
		return false
	}
	return serr == nil
}

// segmentCmsg returns a control message setting the GSO segment size,
// reusing oob's storage when large enough.
func segmentCmsg(oob []byte, seg uint16) []byte {
	space := syscall.CmsgSpace(2)
	if cap(oob) < space {
		oob = make([]byte, space)
	}
	oob = oob[:space]
	clear(oob)
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = syscall.IPPROTO_UDP
	h.Type = udpSegment
	h.SetLen(syscall.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&oob[syscall.CmsgLen(0)])) = seg
	return oob
}

// isGSOError reports whether err from a UDP_SEGMENT sendmsg means GSO cannot
// be used on this socket or path: EIO (the device lacks checksum offload,
// which UDP GSO requires — see udp(7)), EINVAL (the kernel rejected the
// segmentation request), ENOPROTOOPT or EOPNOTSUPP (no UDP_SEGMENT support).
func isGSOError(err error) bool {
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EINVAL) || isGSOUnsupported(err)
}

// isGSOUnsupported reports whether err means the kernel has no UDP_SEGMENT
// at all (ENOPROTOOPT, EOPNOTSUPP), for every destination; EIO and EINVAL
// may concern one path only (its device, or a request the kernel refused
// for that address).
func isGSOUnsupported(err error) bool {
	return errors.Is(err, syscall.ENOPROTOOPT) || errors.Is(err, syscall.EOPNOTSUPP)
}

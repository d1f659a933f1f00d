//go:build !linux

package udpbatch

import "net"

// probeGSO reports false: UDP_SEGMENT is Linux-only.
func probeGSO(*net.UDPConn) bool { return false }

// segmentCmsg is never called without GSO.
func segmentCmsg(oob []byte, _ uint16) []byte { return oob }

// isGSOError is never called without GSO.
func isGSOError(error) bool { return false }

// isGSOUnsupported is never called without GSO.
func isGSOUnsupported(error) bool { return true }

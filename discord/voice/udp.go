package voice

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"time"
)

// ipDiscoverySize is the size of the IP Discovery packet: type (2), length
// (2), SSRC (4), address (64), port (2) ("IP Discovery").
const ipDiscoverySize = 74

// dialUDP opens the UDP socket to the voice server of Ready.
func dialUDP(ctx context.Context, ip string, port int) (*net.UDPConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("voice: dial udp: %w", err)
	}
	return c.(*net.UDPConn), nil
}

// discoverIP runs IP Discovery on conn: it sends the request (type 0x1,
// length 70) and parses the response (type 0x2) into our external address.
// It retries a few times because UDP may lose the exchange.
func discoverIP(ctx context.Context, conn *net.UDPConn, ssrc uint32) (string, int, error) {
	req := make([]byte, ipDiscoverySize)
	binary.BigEndian.PutUint16(req[0:], 1)
	binary.BigEndian.PutUint16(req[2:], 70)
	binary.BigEndian.PutUint32(req[4:], ssrc)
	resp := make([]byte, 512)
	for attempt := 0; attempt < 5; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		if _, err := conn.Write(req); err != nil {
			return "", 0, fmt.Errorf("%w: %w", ErrIPDiscovery, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := conn.Read(resp)
		if err != nil {
			continue
		}
		_ = conn.SetReadDeadline(time.Time{})
		return parseIPDiscovery(resp[:n])
	}
	return "", 0, fmt.Errorf("%w: no response", ErrIPDiscovery)
}

// parseIPDiscovery parses an IP Discovery response.
func parseIPDiscovery(b []byte) (string, int, error) {
	if len(b) < ipDiscoverySize || binary.BigEndian.Uint16(b[0:]) != 2 {
		return "", 0, fmt.Errorf("%w: bad response (%d bytes)", ErrIPDiscovery, len(b))
	}
	addr := b[8:72]
	if i := bytes.IndexByte(addr, 0); i >= 0 {
		addr = addr[:i]
	}
	if len(addr) == 0 {
		return "", 0, fmt.Errorf("%w: empty address", ErrIPDiscovery)
	}
	return string(addr), int(binary.BigEndian.Uint16(b[72:])), nil
}

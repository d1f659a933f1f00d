package discordtest

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"net"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// serveUDP answers IP discovery and decrypts voice packets.
func (s *Server) serveUDP() {
	buf := make([]byte, 2048)
	for {
		n, from, err := s.udp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		now := time.Now()
		b := buf[:n]
		if n == 74 && binary.BigEndian.Uint16(b) == 1 {
			s.ipDiscovery(b, from)
			continue
		}
		s.receiveRTP(b, now)
	}
}

// ipDiscovery answers the 74-byte request with type 0x2, the sender's
// address (null-terminated) and port ("IP Discovery").
func (s *Server) ipDiscovery(req []byte, from *net.UDPAddr) {
	if binary.BigEndian.Uint16(req[2:]) != 70 {
		return
	}
	resp := make([]byte, 74)
	binary.BigEndian.PutUint16(resp, 2)
	binary.BigEndian.PutUint16(resp[2:], 70)
	copy(resp[4:8], req[4:8])
	copy(resp[8:72], from.IP.String())
	binary.BigEndian.PutUint16(resp[72:], uint16(from.Port))
	s.mu.Lock()
	s.st.Discoveries++
	s.changed()
	s.mu.Unlock()
	_, _ = s.udp.WriteToUDP(resp, from)
}

// receiveRTP decrypts an "RTP size" AEAD packet: the RTP header (with any
// CSRCs and extension preamble, RFC 3711 §3.1) is the additional data, the
// last 4 bytes are the nonce counter, zero-padded to the AEAD nonce size.
func (s *Server) receiveRTP(b []byte, now time.Time) {
	bad := func() {
		s.mu.Lock()
		s.st.BadPackets++
		s.changed()
		s.mu.Unlock()
	}
	if len(b) < 12+16+4 || b[0]>>6 != 2 || b[1]&0x7f != 0x78 {
		bad()
		return
	}
	hlen := 12 + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		hlen += 4 // extension preamble stays clear in rtpsize modes
	}
	ssrc := binary.BigEndian.Uint32(b[8:])
	s.mu.Lock()
	sess := s.keys[ssrc]
	var key [32]byte
	mode := ""
	if sess != nil {
		key, mode = sess.key, sess.mode
	}
	s.mu.Unlock()
	if sess == nil || len(b) < hlen+16+4 {
		bad()
		return
	}
	aead, err := newAEAD(mode, key[:])
	if err != nil {
		bad()
		return
	}
	nonce := make([]byte, aead.NonceSize())
	copy(nonce, b[len(b)-4:])
	opus, err := aead.Open(nil, nonce, b[hlen:len(b)-4], b[:hlen])
	if err != nil {
		bad()
		return
	}
	p := Packet{
		Arrival: now, Seq: binary.BigEndian.Uint16(b[2:]), Timestamp: binary.BigEndian.Uint32(b[4:]), SSRC: ssrc, Opus: opus,
		Silence:   len(opus) == 3 && opus[0] == 0xF8 && opus[1] == 0xFF && opus[2] == 0xFE,
		ValidOpus: OpusDuration(opus) == 20*time.Millisecond,
	}
	s.mu.Lock()
	s.st.Packets = append(s.st.Packets, p)
	s.changed()
	s.mu.Unlock()
}

func newAEAD(mode string, key []byte) (cipher.AEAD, error) {
	if mode == "aead_xchacha20_poly1305_rtpsize" {
		return chacha20poly1305.NewX(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// OpusDuration parses an Opus packet's TOC byte and frame count (RFC 6716
// §3.1, §3.2) and returns the audio it holds, or 0 when malformed.
func OpusDuration(p []byte) time.Duration {
	if len(p) < 1 {
		return 0
	}
	config := int(p[0] >> 3)
	var frame time.Duration
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []time.Duration{10, 20, 40, 60}[config%4] * time.Millisecond
	case config < 16: // Hybrid: 10, 20 ms
		frame = []time.Duration{10, 20}[config%2] * time.Millisecond
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []time.Duration{2500, 5000, 10000, 20000}[config%4] * time.Microsecond
	}
	frames := 1
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
		if len(p) < 2 && p[0]&3 == 2 {
			return 0
		}
	case 3:
		if len(p) < 2 || p[1]&0x3f == 0 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	return time.Duration(frames) * frame
}

package voice

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// rtpHeaderSize is the fixed RTP header we send: no CSRC, no extension, so
// the whole header is the "RTP size" unencrypted part (RFC 3550 §5.1).
const rtpHeaderSize = 12

// rtpPayloadType is the Opus payload type Discord expects ("Voice Packet
// Structure": 0x78).
const rtpPayloadType = 0x78

// sealer encrypts RTP payloads for one of the AEAD "RTP size" modes.
type sealer struct {
	aead    cipher.AEAD
	counter uint32
	nonce   []byte
}

// newSealer returns a sealer for mode with the 32-byte secret key from
// Session Description.
func newSealer(mode string, key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: key has %d bytes, want 32", ErrProtocol, len(key))
	}
	var (
		aead cipher.AEAD
		err  error
	)
	switch mode {
	case ModeAES256GCM:
		var block cipher.Block
		block, err = aes.NewCipher(key)
		if err == nil {
			aead, err = cipher.NewGCM(block)
		}
	case ModeXChaCha20Poly1305:
		aead, err = chacha20poly1305.NewX(key)
	default:
		return nil, fmt.Errorf("%w: %q", ErrNoCommonMode, mode)
	}
	if err != nil {
		return nil, fmt.Errorf("voice: cipher for %s: %w", mode, err)
	}
	return &sealer{aead: aead, nonce: make([]byte, aead.NonceSize())}, nil
}

// seal appends to dst the packet: header, AEAD(payload) with the header as
// additional data, then the 4-byte big-endian nonce counter. The full nonce is
// the counter followed by zeros ("Transport Encryption Modes": 32-bit
// incremental integer value, appended to payload).
func (s *sealer) seal(dst, header, payload []byte) []byte {
	s.counter++
	binary.BigEndian.PutUint32(s.nonce, s.counter)
	dst = append(dst, header...)
	dst = s.aead.Seal(dst, s.nonce, payload, header)
	return binary.BigEndian.AppendUint32(dst, s.counter)
}

// rtpHeader writes the 12-byte RTP header of "Voice Packet Structure".
func rtpHeader(b []byte, seq uint16, ts, ssrc uint32) []byte {
	b = append(b[:0], 0x80, rtpPayloadType)
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint32(b, ts)
	return binary.BigEndian.AppendUint32(b, ssrc)
}

// chooseMode picks the first of our preferred modes the server offers.
func chooseMode(preferred, offered []string) (string, error) {
	for _, p := range preferred {
		for _, o := range offered {
			if p == o {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%w: server offers %v", ErrNoCommonMode, offered)
}

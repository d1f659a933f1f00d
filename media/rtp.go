package media

import (
	"fmt"
	"math/rand/v2"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// VP8Payloader splits VP8 frames into RTP payloads (RFC 7741 §4) and
// always writes a 15-bit PictureID. pion/rtp's VP8Payloader omits the
// PictureID while its counter is 0, which makes Chromium's VP8 depacketizer
// stall until the next keyframe; this one starts at 1 and never writes 0.
type VP8Payloader struct {
	pictureID uint16
}

// vp8DescriptorLen: X|R|N|S|PID, I|L|T|K, and the two-byte PictureID
// (RFC 7741 §4.2).
const vp8DescriptorLen = 4

// Payload implements rtp.Payloader; one call per frame.
func (p *VP8Payloader) Payload(mtu uint16, frame []byte) [][]byte {
	p.pictureID = (p.pictureID + 1) & 0x7fff
	if p.pictureID == 0 {
		p.pictureID = 1
	}
	max := int(mtu) - vp8DescriptorLen
	if max <= 0 || len(frame) == 0 {
		return nil
	}
	var out [][]byte
	for first := true; len(frame) > 0; first = false {
		n := min(max, len(frame))
		b := make([]byte, vp8DescriptorLen+n)
		b[0] = 0x80 // X: extension present
		if first {
			b[0] |= 0x10 // S: start of partition 0
		}
		b[1] = 0x80 // I: PictureID present
		b[2] = 0x80 | byte(p.pictureID>>8)
		b[3] = byte(p.pictureID)
		copy(b[vp8DescriptorLen:], frame[:n])
		out = append(out, b)
		frame = frame[n:]
	}
	return out
}

// Packetizer turns Frames of one RTP stream into packets with their own
// sequence numbers; SSRC and payload type are left to the track writer.
type Packetizer struct {
	payloader rtp.Payloader
	mtu       uint16
	seq       uint16
}

// RTPMTU is the payload budget per packet: room for SRTP, header
// extensions and TURN inside a 1280-byte IPv6 minimum MTU.
const RTPMTU = 1150

// NewPacketizer returns a packetizer for codec: CodecVP8, CodecH264 or "opus".
func NewPacketizer(codec string) (*Packetizer, error) {
	var pl rtp.Payloader
	switch codec {
	case CodecVP8:
		pl = &VP8Payloader{pictureID: uint16(rand.IntN(0x7000))}
	case CodecH264:
		pl = &codecs.H264Payloader{}
	case "opus":
		pl = &codecs.OpusPayloader{}
	default:
		return nil, fmt.Errorf("media: no RTP payloader for %q", codec)
	}
	return &Packetizer{payloader: pl, mtu: RTPMTU, seq: uint16(rand.Uint32())}, nil
}

// Packetize returns f's packets; the last one has the marker bit
// (RFC 7741 §4.1, RFC 6184 §5.1).
func (p *Packetizer) Packetize(f Frame) []*rtp.Packet {
	payloads := p.payloader.Payload(p.mtu, f.Data)
	out := make([]*rtp.Packet, len(payloads))
	for i, pl := range payloads {
		out[i] = &rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				SequenceNumber: p.seq,
				Timestamp:      f.Timestamp,
				Marker:         i == len(payloads)-1,
			},
			Payload: pl,
		}
		p.seq++
	}
	return out
}

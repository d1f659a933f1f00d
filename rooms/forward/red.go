package forward

import (
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"
)

// Redundant audio (RFC 2198), as WebRTC uses it for Opus: each packet of
// payload type "audio/red" carries the current Opus packet (the primary)
// and copies of the one or two before it, so a subscriber that loses a
// packet rebuilds it from the next. Chromium offers it by default
// ("a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111": blocks of payload
// type 111). A DownTrack encodes RED when the publisher sends plain Opus
// and the subscriber negotiated RED for it; video never takes this path.

// MimeTypeRED is RFC 2198's media type as WebRTC negotiates it for audio.
const MimeTypeRED = "audio/red"

const (
	// redDistance is how many earlier packets each RED packet repeats:
	// two survive a burst of two lost packets, as Chromium sends them.
	redDistance = 2
	// redMaxTSOffset and redMaxBlockLen are the widths of a block
	// header's fields (RFC 2198 §3: 14-bit offset, 10-bit length).
	redMaxTSOffset = 1<<14 - 1
	redMaxBlockLen = 1<<10 - 1
	// redMaxPayload keeps a RED packet within a 1,200-byte path MTU
	// after the RTP header, its extensions and SRTP's tag.
	redMaxPayload = 1100
)

// redBlock is an earlier packet repeated in a RED payload.
type redBlock struct {
	payload  []byte
	tsOffset uint32 // primary's timestamp minus this block's
}

// encodeRED writes into dst the RED payload (RFC 2198 §3) of primary with
// the redundant blocks red (oldest first), all of payload type pt. Blocks
// that would take the payload past redMaxPayload or dst are left out,
// oldest first. It returns the payload's length, or 0 when the primary
// alone does not fit dst.
func encodeRED(dst []byte, pt uint8, primary []byte, red []redBlock) int {
	total := 1 + len(primary)
	for _, r := range red {
		total += 4 + len(r.payload)
	}
	for len(red) > 0 && total > min(len(dst), redMaxPayload) {
		total -= 4 + len(red[0].payload)
		red = red[1:]
	}
	if total > len(dst) {
		return 0
	}
	i := 0
	for _, r := range red {
		// F=1, block PT, 14-bit timestamp offset, 10-bit block length.
		v := r.tsOffset<<10 | uint32(len(r.payload))
		dst[i], dst[i+1], dst[i+2], dst[i+3] = 0x80|pt&0x7f, byte(v>>16), byte(v>>8), byte(v)
		i += 4
	}
	dst[i] = pt & 0x7f // F=0: the primary's header, the last one
	i++
	for _, r := range red {
		i += copy(dst[i:], r.payload)
	}
	return i + copy(dst[i:], primary)
}

// REDBlock is one block of a RED payload.
type REDBlock struct {
	PT uint8
	// TSOffset is how far the block's timestamp lies before the packet's
	// (0 for the primary).
	TSOffset uint32
	// Payload aliases the RED payload.
	Payload []byte
}

// ParseRED appends the blocks of a RED payload (RFC 2198 §3) to blocks,
// oldest first and the primary last, and returns them. A subscriber
// recovers a lost packet from the next one's redundant block whose
// timestamp (the packet's minus TSOffset) is the lost one's.
func ParseRED(payload []byte, blocks []REDBlock) ([]REDBlock, error) {
	// The headers first: 4 bytes per redundant block, 1 for the primary.
	hdrEnd, data := 0, 0
	for {
		if hdrEnd >= len(payload) {
			return blocks, ErrMalformedRED
		}
		if payload[hdrEnd]&0x80 == 0 {
			hdrEnd++
			break
		}
		if hdrEnd+4 > len(payload) {
			return blocks, ErrMalformedRED
		}
		data += int(payload[hdrEnd+2]&0x03)<<8 | int(payload[hdrEnd+3])
		hdrEnd += 4
	}
	if hdrEnd+data > len(payload) {
		return blocks, ErrMalformedRED
	}
	at := hdrEnd
	for h := 0; h < hdrEnd-1; h += 4 {
		v := uint32(payload[h+1])<<16 | uint32(payload[h+2])<<8 | uint32(payload[h+3])
		n := int(v & redMaxBlockLen)
		blocks = append(blocks, REDBlock{PT: payload[h] & 0x7f, TSOffset: v >> 10, Payload: payload[at : at+n]})
		at += n
	}
	return append(blocks, REDBlock{PT: payload[hdrEnd-1] & 0x7f, Payload: payload[at:]}), nil
}

// redCodec returns the subscriber's negotiated RED codec to send pub
// (the publisher's codec) in, and the payload type of its blocks, when
// pub is Opus and the subscriber negotiated RED over an Opus payload
// type. The block type is the first in RED's fmtp ("111/111"), or the
// negotiated Opus type when the fmtp names none.
func redCodec(pub webrtc.RTPCodecParameters, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, uint8, bool) {
	if !strings.EqualFold(pub.MimeType, webrtc.MimeTypeOpus) {
		return webrtc.RTPCodecParameters{}, 0, false
	}
	opusPT := -1
	for _, c := range have {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
			opusPT = int(c.PayloadType)
			break
		}
	}
	for _, c := range have {
		if !strings.EqualFold(c.MimeType, MimeTypeRED) || opusPT < 0 {
			continue
		}
		first, _, _ := strings.Cut(c.SDPFmtpLine, "/")
		pt, err := strconv.ParseUint(strings.TrimSpace(first), 10, 7)
		if err != nil {
			pt = uint64(opusPT)
		}
		for _, o := range have {
			if strings.EqualFold(o.MimeType, webrtc.MimeTypeOpus) && uint64(o.PayloadType) == pt {
				return c, uint8(pt), true
			}
		}
	}
	return webrtc.RTPCodecParameters{}, 0, false
}

// redPayload encodes p as the primary of a RED payload in the writer's
// scratch buffer, with the redundancy its layer's cache still holds from
// segment s: the packets just before p, when their timestamp offsets and
// sizes fit a block header. Writer only; it allocates nothing.
func (d *DownTrack) redPayload(b *binding, p *inPacket, s *segment) []byte {
	var blocks [redDistance]redBlock
	n := 0
	if l := d.r.layerAt(p.layer); l != nil {
		for k := uint16(redDistance); k >= 1; k-- { // oldest first
			seq := p.hdr.SequenceNumber - k
			if !s.long() && int16(seq-s.inStart) < 0 {
				continue // before the segment: sent under other numbers, or not at all
			}
			q := l.cache.get(seq)
			if q == nil {
				continue
			}
			off := p.hdr.Timestamp - q.hdr.Timestamp
			if off == 0 || off > redMaxTSOffset || len(q.payload) > redMaxBlockLen {
				continue
			}
			blocks[n] = redBlock{payload: q.payload, tsOffset: off}
			n++
		}
	}
	m := encodeRED(d.w.scratch[:], b.redPT, p.payload, blocks[:n])
	return d.w.scratch[:m]
}

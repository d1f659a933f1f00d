package forward

// vp8Descriptor is the VP8 RTP payload descriptor of RFC 7741 §4.2, parsed
// once per received packet so each DownTrack can rewrite PictureID and
// TL0PICIDX without parsing again.
type vp8Descriptor struct {
	size        int   // descriptor length in bytes (payload header starts here)
	nonRef      bool  // N bit
	start       bool  // S bit: first packet of a partition
	partitionID uint8 // PID
	hasPicID    bool  // I bit
	picID       uint16
	hasTL0      bool // L bit
	tl0PicIdx   uint8
	hasTK       bool  // T or K bit
	tk          uint8 // TID|Y|KEYIDX byte, kept as received
	tkFlags     uint8 // T and K bits in their extension-byte position
	keyframe    bool  // start of partition 0 whose VP8 header has P=0 (RFC 7741 §4.3)
}

// vp8 descriptor bits, RFC 7741 §4.2.
const (
	vp8X = 0x80
	vp8N = 0x20
	vp8S = 0x10
	vp8I = 0x80
	vp8L = 0x40
	vp8T = 0x20
	vp8K = 0x10
	vp8M = 0x80
)

// maxVP8DescriptorSize is the largest descriptor writeVP8Descriptor emits:
// first byte, extension byte, 2-byte PictureID, TL0PICIDX, TID/KEYIDX.
const maxVP8DescriptorSize = 6

// parseVP8Descriptor parses the payload descriptor at the start of an RTP
// payload. It returns ErrMalformedPayload when the payload is too short for
// the descriptor it announces.
func parseVP8Descriptor(p []byte) (vp8Descriptor, error) {
	var d vp8Descriptor
	if len(p) < 1 {
		return d, ErrMalformedPayload
	}
	b0 := p[0]
	d.nonRef = b0&vp8N != 0
	d.start = b0&vp8S != 0
	d.partitionID = b0 & 0x07
	i := 1
	if b0&vp8X != 0 {
		if len(p) <= i {
			return d, ErrMalformedPayload
		}
		ext := p[i]
		i++
		if ext&vp8I != 0 {
			if len(p) <= i {
				return d, ErrMalformedPayload
			}
			d.hasPicID = true
			if p[i]&vp8M != 0 {
				if len(p) <= i+1 {
					return d, ErrMalformedPayload
				}
				d.picID = uint16(p[i]&0x7f)<<8 | uint16(p[i+1])
				i += 2
			} else {
				d.picID = uint16(p[i] & 0x7f)
				i++
			}
		}
		if ext&vp8L != 0 {
			if len(p) <= i {
				return d, ErrMalformedPayload
			}
			d.hasTL0 = true
			d.tl0PicIdx = p[i]
			i++
		}
		if ext&(vp8T|vp8K) != 0 {
			if len(p) <= i {
				return d, ErrMalformedPayload
			}
			d.hasTK = true
			d.tk = p[i]
			d.tkFlags = ext & (vp8T | vp8K)
			i++
		}
	}
	d.size = i
	if d.start && d.partitionID == 0 {
		if len(p) <= i {
			return d, ErrMalformedPayload
		}
		// VP8 payload header, RFC 7741 §4.3: P bit is 0 for key frames.
		d.keyframe = p[i]&0x01 == 0
	}
	return d, nil
}

// writeVP8Descriptor writes d with the given PictureID and TL0PICIDX into
// dst (at least maxVP8DescriptorSize bytes) and returns the bytes written.
// It always writes a 15-bit PictureID (M=1): Chromium stalls until the next
// key frame when PictureID is missing.
func writeVP8Descriptor(dst []byte, d *vp8Descriptor, picID uint16, tl0 uint8) int {
	b0 := byte(vp8X) | d.partitionID
	if d.nonRef {
		b0 |= vp8N
	}
	if d.start {
		b0 |= vp8S
	}
	dst[0] = b0
	ext := byte(vp8I) | d.tkFlags
	if d.hasTL0 {
		ext |= vp8L
	}
	dst[1] = ext
	dst[2] = vp8M | byte(picID>>8)&0x7f
	dst[3] = byte(picID)
	n := 4
	if d.hasTL0 {
		dst[n] = tl0
		n++
	}
	if d.hasTK {
		dst[n] = d.tk
		n++
	}
	return n
}

package forward

// H.264 NAL unit types, RFC 6184 §5.2 and ITU-T H.264 Table 7-1.
const (
	naluIDR  = 5
	naluSPS  = 7
	naluSTAP = 24 // STAP-A, RFC 6184 §5.7.1
	naluFUA  = 28 // FU-A, RFC 6184 §5.8
)

// isH264Keyframe reports whether an RTP payload (RFC 6184) starts or
// carries an IDR picture or its sequence parameter set: a single NAL unit
// of type IDR/SPS, a STAP-A aggregating one, or the start fragment of an
// FU-A carrying one. An SPS counts because encoders send it just before
// the IDR of the same access unit, and a decoder switching layers needs it.
// It returns ErrMalformedPayload for truncated aggregation packets.
func isH264Keyframe(p []byte) (bool, error) {
	if len(p) < 1 {
		return false, ErrMalformedPayload
	}
	switch t := p[0] & 0x1f; t {
	case naluIDR, naluSPS:
		return true, nil
	case naluSTAP:
		i := 1
		for i < len(p) {
			if i+2 > len(p) {
				return false, ErrMalformedPayload
			}
			size := int(p[i])<<8 | int(p[i+1])
			i += 2
			if size == 0 || i+size > len(p) {
				return false, ErrMalformedPayload
			}
			if nt := p[i] & 0x1f; nt == naluIDR || nt == naluSPS {
				return true, nil
			}
			i += size
		}
		return false, nil
	case naluFUA:
		if len(p) < 2 {
			return false, ErrMalformedPayload
		}
		fuHeader := p[1]
		start := fuHeader&0x80 != 0
		nt := fuHeader & 0x1f
		return start && (nt == naluIDR || nt == naluSPS), nil
	default:
		return false, nil
	}
}

package media

import (
	"testing"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// rangeDecoder is the start of RFC 6716 §4.1's range decoder: enough to
// read the flags at the head of a SILK frame.
type rangeDecoder struct {
	buf      []byte
	pos      int
	rem      uint32
	rng, val uint32
}

func (d *rangeDecoder) byte() uint32 {
	if d.pos >= len(d.buf) {
		return 0
	}
	d.pos++
	return uint32(d.buf[d.pos-1])
}

// init is ec_dec_init (§4.1.1).
func (d *rangeDecoder) init(b []byte) {
	d.buf, d.pos = b, 0
	d.rem = d.byte()
	d.rng = 128
	d.val = d.rng - 1 - d.rem>>1
	d.normalize()
}

// normalize is §4.1.2.1's renormalization.
func (d *rangeDecoder) normalize() {
	for d.rng <= 1<<23 {
		d.rng <<= 8
		sym := d.rem
		d.rem = d.byte()
		sym = (sym<<8 | d.rem) >> 1
		d.val = ((d.val << 8) + (255 &^ sym)) & (1<<31 - 1)
	}
}

// bit is ec_dec_bit_logp (§4.1.3.2).
func (d *rangeDecoder) bit(logp uint) bool {
	s := d.rng >> logp
	one := d.val < s
	if !one {
		d.val -= s
		d.rng -= s
	} else {
		d.rng = s
	}
	d.normalize()
	return one
}

// opusLBRR reports whether a one-frame, 20 ms Opus packet's SILK layer
// carries in-band FEC (LBRR) data for the mid channel, and whether the
// packet has a SILK layer at all (RFC 6716 §4.2.3: the VAD flag, then the
// LBRR flag, each with probability ½).
func opusLBRR(pkt []byte) (lbrr, silk bool) {
	if len(pkt) < 2 || pkt[0]&3 != 0 || pkt[0]>>3 >= 16 {
		return false, false
	}
	var d rangeDecoder
	d.init(pkt[1:])
	_ = d.bit(1) // VAD, mid
	return d.bit(1), true
}

// TestOpusInBandFEC checks the ingest's Opus carries in-band FEC (RFC
// 6716 §2.1.7): each packet repeats the previous frame at a lower rate,
// so a receiver that lost one decodes it from the next. That needs the
// SILK layer (SILK or hybrid mode) and the LBRR flag set. Before FEC was
// turned on, every packet was CELT-only, without either.
func TestOpusInBandFEC(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Unpaced = true
	rec, err := play(t, testmedia.Voice, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, _, audio := rec.snapshot()
	if len(audio) < 100 {
		t.Fatalf("%d audio packets", len(audio))
	}
	var silk, fec int
	for _, a := range audio[1:] { // the first has no previous frame to repeat
		l, s := opusLBRR(a.Data)
		if s {
			silk++
		}
		if l {
			fec++
		}
	}
	n := len(audio) - 1
	t.Logf("%d packets: %d with a SILK layer, %d with LBRR (FEC) data", n, silk, fec)
	// libopus codes LBRR for frames it judges active speech; the
	// quietest stretches of the test sound are not.
	if silk != n || fec < n/2 {
		t.Fatalf("%d of %d packets with a SILK layer and %d with in-band FEC, want all and at least half", silk, n, fec)
	}
}

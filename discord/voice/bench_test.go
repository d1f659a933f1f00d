package voice

import (
	"bytes"
	"testing"
)

// BenchmarkSeal measures the per-packet cost of transport encryption for a
// typical 160-byte Opus frame.
func BenchmarkSeal(b *testing.B) {
	key := bytes.Repeat([]byte{1}, 32)
	payload := make([]byte, 160)
	for _, mode := range []string{ModeAES256GCM, ModeXChaCha20Poly1305} {
		b.Run(mode, func(b *testing.B) {
			s, err := newSealer(mode, key)
			if err != nil {
				b.Fatal(err)
			}
			hdr := rtpHeader(nil, 1, 960, 42)
			buf := make([]byte, 0, 1500)
			b.ReportAllocs()
			for b.Loop() {
				buf = s.seal(buf[:0], hdr, payload)
			}
		})
	}
}

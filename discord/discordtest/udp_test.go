package discordtest

import (
	"testing"
	"time"
)

func TestOpusDuration(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		want time.Duration
	}{
		{"silence frame", []byte{0xF8, 0xFF, 0xFE}, 20 * time.Millisecond},
		{"CELT FB 20 ms stereo", []byte{0xFC, 1}, 20 * time.Millisecond},
		{"SILK WB 20 ms", []byte{9 << 3, 1}, 20 * time.Millisecond},
		{"two CELT 10 ms frames", []byte{18<<3 | 1, 1}, 20 * time.Millisecond},
		{"CELT 2.5 ms", []byte{16 << 3}, 2500 * time.Microsecond},
		{"code 3 without count", []byte{0xFB}, 0},
		{"empty", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OpusDuration(tc.p); got != tc.want {
				t.Errorf("OpusDuration = %v, want %v", got, tc.want)
			}
		})
	}
}

func FuzzOpusDuration(f *testing.F) {
	f.Add([]byte{0xFC, 1})
	f.Add([]byte{0xFB, 0xFF})
	f.Fuzz(func(t *testing.T, p []byte) {
		if d := OpusDuration(p); d < 0 || d > 63*60*time.Millisecond {
			t.Fatalf("duration %v", d)
		}
	})
}

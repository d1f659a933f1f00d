package ingest

import "testing"

// TestAttrDrifted: the attribute copy of the playback report is renewed
// when extrapolating it no longer gives the real position (a slowed
// ingest), and only then.
func TestAttrDrifted(t *testing.T) {
	last := &PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 10_000, SentAtMs: 1_000_000}
	cases := []struct {
		name string
		last *PlaybackMessage
		now  PlaybackMessage
		want bool
	}{
		{"on time", last, PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 20_000, SentAtMs: 1_010_000}, false},
		{"within the bound", last, PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 19_950, SentAtMs: 1_010_000}, false},
		{"slowed: behind the extrapolation", last, PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 18_500, SentAtMs: 1_010_000}, true},
		{"ahead of the extrapolation", last, PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 20_200, SentAtMs: 1_010_000}, true},
		{"no copy yet", nil, PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 0, SentAtMs: 1}, false},
		{"paused copy (a change renews it anyway)", &PlaybackMessage{ItemID: "7", State: "paused", PositionMs: 10_000, SentAtMs: 1_000_000},
			PlaybackMessage{ItemID: "7", State: "playing", PositionMs: 10_000, SentAtMs: 1_010_000}, false},
		{"another item", last, PlaybackMessage{ItemID: "8", State: "playing", PositionMs: 0, SentAtMs: 1_010_000}, false},
	}
	for _, c := range cases {
		if got := attrDrifted(c.last, &c.now); got != c.want {
			t.Errorf("%s: attrDrifted = %v, want %v", c.name, got, c.want)
		}
	}
}

package vod

import (
	"fmt"
	"testing"
)

// TestParseSidecarEdges: BOM, CR line ends, hour-less WebVTT times, cue
// settings, numbered SubRip blocks with blank lines inside, "-->" in
// text, and files that hold no cue.
func TestParseSidecarEdges(t *testing.T) {
	for _, c := range []struct {
		ext, in, want string
	}{
		{".srt", "\xef\xbb\xbf1\r00:00:01,000 --> 00:00:02,000\rA <b>b</b> <c.x>c</c>\r\r", "[{90000 180000 A <b>b</b> c}]"},
		{".srt", "7\n01:00:00,000 --> 01:00:01,500 X1:10\nx --> y\n", "[{324000000 324135000 x -- &gt; y}]"},
		{".vtt", "WEBVTT - title\n\nSTYLE\n::cue { color: red }\n\n61:01.250 --> 61:02.000 line:0\n<v Bob>hi\n", "[{329512500 329580000 <v Bob>hi}]"},
		{".ass", "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:00.50,0:00:01.00,a{\\b1},b\\hc\n", "[{45000 90000 a,b c}]"},
		{".srt", "garbage\n", "error"},
		{".ass", "[Events]\nDialogue: 0:00:00.50,0:00:01.00,no format line\n", "error"},
		{".srt", "1\n00:00:05,000 --> 00:00:04,000\nends before it starts\n", "error"},
		{".srt", "\xff\xfe1\x00", "error"},
	} {
		cs, err := parseSidecar(c.ext, []byte(c.in))
		got := fmt.Sprint(cs)
		if err != nil {
			got = "error"
		}
		if got != c.want {
			t.Errorf("%s %q: %s (%v), want %s", c.ext, c.in, got, err, c.want)
		}
	}
	seg := string(vttSegment([]cue{{start: 0, end: 90000, text: "a"}, {start: 90000, end: 180000, text: "b"}}, 90000, 180000))
	if want := "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00:01.000 --> 00:00:02.000\nb\n"; seg != want {
		t.Errorf("segment:\n%q\nwant\n%q", seg, want)
	}
}

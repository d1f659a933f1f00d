package vod

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/asticode/go-astiav"
)

// cue is one subtitle: its text from start to end, 90 kHz on the item's
// timeline (0 is the first video frame).
type cue struct {
	start, end int64
	text       string
}

// maxCueTicks bounds a cue with no duration: shown until the next one, at
// most this long.
const maxCueTicks = 5 * clock

// packetCue turns one packet of an embedded text subtitle stream into a
// cue (times still in the source's 90 kHz clock). The payloads are those
// of FFmpeg's demuxers: SubRip and WebVTT text, the ASS event line
// "ReadOrder,Layer,Style,Name,MarginL,MarginR,MarginV,Effect,Text", and
// mov_text's 16-bit length-prefixed text (3GPP TS 26.245 §5.17).
func packetCue(id astiav.CodecID, data []byte, start, dur int64) (cue, bool) {
	var text string
	switch id {
	case astiav.CodecIDMovText:
		if len(data) < 2 {
			return cue{}, false
		}
		n := int(binary.BigEndian.Uint16(data))
		if n > len(data)-2 {
			n = len(data) - 2
		}
		text = string(data[2 : 2+n])
	case astiav.CodecIDAss, astiav.CodecIDSsa:
		line := strings.TrimPrefix(string(data), "Dialogue:")
		f := strings.SplitN(line, ",", 9)
		if len(f) < 9 {
			return cue{}, false
		}
		text = assText(f[8])
	default:
		text = srtText(string(data))
	}
	text = strings.TrimSpace(text)
	if text == "" || !utf8.ValidString(text) {
		return cue{}, false
	}
	return cue{start: start, end: start + dur, text: text}, true
}

// finishCues sorts cues and gives those without a duration one: until the
// next cue, at most maxCueTicks.
func finishCues(cs []cue) []cue {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].start < cs[j].start })
	for i := range cs {
		// A blank line would end the cue (W3C WebVTT §4.1).
		cs[i].text = blankLines.ReplaceAllString(cs[i].text, "\n")
		if cs[i].end > cs[i].start {
			continue
		}
		cs[i].end = cs[i].start + maxCueTicks
		if i+1 < len(cs) && cs[i+1].start > cs[i].start {
			cs[i].end = min(cs[i].end, cs[i+1].start)
		}
	}
	return cs
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n[\n \t]*`)

// assOverride matches ASS override blocks ({\i1}, {\pos(10,10)}, ...).
var assOverride = regexp.MustCompile(`\{[^}]*\}`)

// assText is the plain text of an ASS event's Text field: override
// blocks dropped, \N and \n line breaks, \h a space.
func assText(s string) string {
	s = assOverride.ReplaceAllString(s, "")
	s = strings.NewReplacer(`\N`, "\n", `\n`, "\n", `\h`, " ").Replace(s)
	return escapeCueText(s)
}

// srtTag matches the HTML-like tags SubRip files carry.
var srtTag = regexp.MustCompile(`</?([a-zA-Z]+)[^>]*>`)

// srtText keeps SubRip's <i>, <b> and <u> (WebVTT has them, W3C WebVTT
// §4.2.2 cue text spans) and drops other tags (<font>) and ASS-style
// {\an8} blocks; the rest is escaped.
func srtText(s string) string {
	s = assOverride.ReplaceAllString(s, "")
	var b strings.Builder
	last := 0
	for _, m := range srtTag.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(escapeCueText(s[last:m[0]]))
		switch strings.ToLower(s[m[2]:m[3]]) {
		case "i", "b", "u":
			b.WriteString(strings.ToLower(s[m[0]:m[3]]) + ">")
		}
		last = m[1]
	}
	b.WriteString(escapeCueText(s[last:]))
	return b.String()
}

// escapeCueText escapes what WebVTT cue text may not hold as is: &, <
// and > (W3C WebVTT §4.2.2), and never lets "-->" through.
func escapeCueText(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return strings.ReplaceAll(s, "--&gt;", "-- &gt;")
}

// parseSidecar reads a .srt, .vtt or .ass/.ssa file into cues (times from
// the start of the file's timeline).
func parseSidecar(ext string, b []byte) ([]cue, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not UTF-8 text: save it as UTF-8")
	}
	s := strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\r", "\n")
	switch ext {
	case ".srt", ".vtt":
		return parseTimedBlocks(s, ext == ".vtt")
	case ".ass", ".ssa":
		return parseASS(s)
	}
	return nil, fmt.Errorf("unknown subtitle format %q", ext)
}

// cueTime parses SubRip "00:01:02,500" and WebVTT "01:02.500" or
// "00:01:02.500" (W3C WebVTT §4.5 timestamps) into 90 kHz ticks.
func cueTime(s string) (int64, bool) {
	s = strings.Replace(strings.TrimSpace(s), ",", ".", 1)
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var t float64
	for _, p := range parts[:len(parts)-1] {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, false
		}
		t = t*60 + float64(n)
	}
	sec, err := strconv.ParseFloat(parts[len(parts)-1], 64)
	if err != nil || sec < 0 || sec >= 60 {
		return 0, false
	}
	return int64((t*60+sec)*clock + 0.5), true
}

// parseTimedBlocks reads SubRip, or WebVTT when vtt: blocks separated by
// blank lines, each with a "start --> end" line and the text after it.
// WebVTT cue text is kept as written; SubRip's is converted.
func parseTimedBlocks(s string, vtt bool) ([]cue, error) {
	var out []cue
	for _, block := range strings.Split(s, "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		for i, l := range lines {
			a, rest, ok := strings.Cut(l, "-->")
			if !ok {
				continue
			}
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			start, ok1 := cueTime(a)
			end, ok2 := cueTime(fields[0])
			if !ok1 || !ok2 || end <= start {
				break
			}
			text := strings.Join(lines[i+1:], "\n")
			if !vtt {
				text = srtText(text)
			}
			if text = strings.TrimSpace(text); text != "" {
				out = append(out, cue{start: start, end: end, text: text})
			}
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cues found")
	}
	return finishCues(out), nil
}

// parseASS reads the [Events] of an ASS/SSA script: its Format line names
// the fields, each Dialogue line is a cue (Text is the last field and may
// hold commas).
func parseASS(s string) ([]cue, error) {
	var format []string
	var out []cue
	inEvents := false
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			inEvents = strings.EqualFold(l, "[Events]")
			continue
		}
		key, val, ok := strings.Cut(l, ":")
		if !inEvents || !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Format":
			format = strings.Split(val, ",")
			for i := range format {
				format[i] = strings.TrimSpace(format[i])
			}
		case "Dialogue":
			if c, ok := assDialogue(format, val); ok {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Dialogue lines found in [Events]")
	}
	return finishCues(out), nil
}

func assDialogue(format []string, val string) (cue, bool) {
	if len(format) == 0 {
		return cue{}, false
	}
	f := strings.SplitN(val, ",", len(format))
	if len(f) != len(format) {
		return cue{}, false
	}
	var c cue
	var ok1, ok2 bool
	for i, name := range format {
		switch name {
		case "Start":
			c.start, ok1 = cueTime(f[i])
		case "End":
			c.end, ok2 = cueTime(f[i])
		case "Text":
			c.text = strings.TrimSpace(assText(f[i]))
		}
	}
	return c, ok1 && ok2 && c.end > c.start && c.text != ""
}

// vttTime formats 90 kHz ticks as a WebVTT timestamp (W3C WebVTT §4.5).
func vttTime(t int64) string {
	ms := (max(t, 0)*1000 + clock/2) / clock
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// vttSegment is one WebVTT segment of a subtitle media playlist: the cues
// that overlap [from, to), times on the item's timeline. X-TIMESTAMP-MAP
// (RFC 8216 §3.5) maps cue time 0 to media time 0: the fMP4 segments'
// decode times start at 0 on the same timeline (MPEGTS is in 90 kHz).
func vttSegment(cs []cue, from, to int64) []byte {
	var b bytes.Buffer
	b.WriteString("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n")
	for _, c := range cs {
		if c.end <= from || c.start >= to {
			continue
		}
		fmt.Fprintf(&b, "\n%s --> %s\n%s\n", vttTime(c.start), vttTime(c.end), c.text)
	}
	return b.Bytes()
}

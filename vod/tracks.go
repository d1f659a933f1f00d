package vod

import (
	"fmt"
	"strings"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// AudioTrack is one audio stream of the source: an alternate audio
// rendition (RFC 8216 §4.3.4.1, EXT-X-MEDIA TYPE=AUDIO), AAC-LC stereo.
type AudioTrack struct {
	ID       string `json:"id"`     // rendition name in URLs: "a<stream>"
	Stream   int    `json:"stream"` // the source's stream index
	Codec    string `json:"codec"`  // the source's codec
	Language string `json:"language,omitempty"`
	Name     string `json:"name"`
	Default  bool   `json:"default"`
	Copied   bool   `json:"copied"`  // served as it is (AAC-LC stereo), not encoded
	Bitrate  int    `json:"bitrate"` // bits per second, for BANDWIDTH

	copy *audioCopy // nil: encoded to AAC-LC stereo
}

// SubtitleTrack is an embedded subtitle stream or a sidecar file. Text
// subtitles become WebVTT subtitle renditions (subtitles.go); image
// subtitles are listed with the reason they are not offered.
type SubtitleTrack struct {
	ID        string `json:"id,omitempty"`   // rendition name in URLs; empty when unsupported
	Source    string `json:"source"`         // "embedded" or "sidecar"
	Stream    int    `json:"stream"`         // embedded: the source's stream index; sidecar: -1
	File      string `json:"file,omitempty"` // sidecar: its file name
	Codec     string `json:"codec"`
	Language  string `json:"language,omitempty"`
	Name      string `json:"name"`
	Supported bool   `json:"supported"`
	Reason    string `json:"reason,omitempty"`
	Forced    bool   `json:"forced,omitempty"` // sidecar named "….forced.<ext>": only the foreign parts

	cues []cue  // embedded text subtitles: read at scan
	path string // sidecar: its path, opened through the library root
}

// Tracks is an item's audio and subtitle tracks (the tracks.json answer).
type Tracks struct {
	Audio     []AudioTrack    `json:"audio"`
	Subtitles []SubtitleTrack `json:"subtitles"`
}

// audioBitrate is every alternate audio rendition's AAC-LC bitrate.
const audioBitrate = 128_000

// AudioRenditions returns one alternate audio rendition per audio stream
// of the source.
func AudioRenditions(tl *Timeline) []Rendition {
	out := make([]Rendition, 0, len(tl.AudioTracks))
	for _, a := range tl.AudioTracks {
		out = append(out, Rendition{Name: a.ID, Audio: true, Remux: a.copy != nil, Stream: a.Stream, AudioBitrate: a.Bitrate})
	}
	return out
}

// textSubtitleCodecs are the embedded subtitle codecs read as text.
var textSubtitleCodecs = map[astiav.CodecID]bool{
	astiav.CodecIDSubrip: true, astiav.CodecIDAss: true, astiav.CodecIDSsa: true,
	astiav.CodecIDMovText: true, astiav.CodecIDWebvtt: true, astiav.CodecIDText: true,
}

// listTracks reads the audio and subtitle streams of in. Audio streams
// no decoder knows are left out; subtitle streams that are not text are
// listed as unsupported.
func listTracks(in *input) ([]AudioTrack, []SubtitleTrack) {
	var audio []AudioTrack
	var subs []SubtitleTrack
	for _, st := range in.fc.Streams() {
		cp := st.CodecParameters()
		lang, title := streamTag(st, "language"), streamTag(st, "title")
		switch cp.MediaType() {
		case astiav.MediaTypeAudio:
			if astiav.FindDecoder(cp.CodecID()) == nil {
				continue
			}
			tag := languageTag(lang)
			// go-astiav v0.16.0 has no AVStream.disposition: the first
			// audio stream is the default one.
			audio = append(audio, AudioTrack{ID: fmt.Sprintf("a%d", st.Index()), Stream: st.Index(), Codec: cp.CodecID().Name(),
				Language: tag, Name: trackName(title, tag, "Audio", len(audio)+1), Default: len(audio) == 0, Bitrate: audioBitrate})
		case astiav.MediaTypeSubtitle:
			tag := languageTag(lang)
			s := SubtitleTrack{Source: "embedded", Stream: st.Index(), Codec: cp.CodecID().Name(), Language: tag,
				Name: trackName(title, tag, "Subtitles", len(subs)+1)}
			if textSubtitleCodecs[cp.CodecID()] {
				s.ID, s.Supported = fmt.Sprintf("s%d", st.Index()), true
			} else {
				s.Reason = unsupportedReason(cp.CodecID())
			}
			subs = append(subs, s)
		}
	}
	return audio, subs
}

// unsupportedReason says why a subtitle codec is not offered.
func unsupportedReason(id astiav.CodecID) string {
	switch id {
	case astiav.CodecIDHdmvPgsSubtitle, astiav.CodecIDDvbSubtitle, astiav.CodecIDDvdSubtitle:
		return fmt.Sprintf("%s subtitles are pictures, which WebVTT cannot carry and Marquee never burns in; add a text sidecar (.srt, .vtt or .ass) next to the file", id.Name())
	}
	return fmt.Sprintf("%s subtitles cannot be converted to WebVTT; add a text sidecar (.srt, .vtt or .ass) next to the file", id.Name())
}

func streamTag(st *astiav.Stream, key string) string {
	md := st.Metadata()
	if md == nil {
		return ""
	}
	if e := md.Get(key, nil, astiav.NewDictionaryFlags()); e != nil {
		return strings.TrimSpace(e.Value())
	}
	return ""
}

// languages maps ISO 639-2 codes (bibliographic and terminologic) and
// ISO 639-1 codes of common languages to the ISO 639-1 code and an
// English name.
var languages = map[string][2]string{
	"eng": {"en", "English"}, "fra": {"fr", "French"}, "fre": {"fr", "French"}, "deu": {"de", "German"},
	"ger": {"de", "German"}, "spa": {"es", "Spanish"}, "ita": {"it", "Italian"}, "por": {"pt", "Portuguese"},
	"nld": {"nl", "Dutch"}, "dut": {"nl", "Dutch"}, "jpn": {"ja", "Japanese"}, "zho": {"zh", "Chinese"},
	"chi": {"zh", "Chinese"}, "kor": {"ko", "Korean"}, "rus": {"ru", "Russian"}, "pol": {"pl", "Polish"},
	"swe": {"sv", "Swedish"}, "nor": {"no", "Norwegian"}, "dan": {"da", "Danish"}, "fin": {"fi", "Finnish"},
	"ces": {"cs", "Czech"}, "cze": {"cs", "Czech"}, "ell": {"el", "Greek"}, "gre": {"el", "Greek"},
	"tur": {"tr", "Turkish"}, "ara": {"ar", "Arabic"}, "heb": {"he", "Hebrew"}, "hin": {"hi", "Hindi"},
	"hun": {"hu", "Hungarian"}, "ukr": {"uk", "Ukrainian"}, "ron": {"ro", "Romanian"}, "rum": {"ro", "Romanian"},
}

// languageTag turns a stream's or file name's language into an RFC 5646
// tag (what RFC 8216 §4.3.4.1 LANGUAGE wants): ISO 639-2 codes of common
// languages become their two-letter code; "und" and junk become "".
func languageTag(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if l, ok := languages[s]; ok {
		return l[0]
	}
	if s == "und" || s == "" || len(s) > 8 {
		return ""
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '-' && (r < '0' || r > '9') {
			return ""
		}
	}
	return s
}

// trackName is a track's NAME: its title, else its language's name, else
// kind and number.
func trackName(title, tag, kind string, n int) string {
	if title != "" {
		return title
	}
	base, _, _ := strings.Cut(tag, "-")
	for _, l := range languages {
		if l[0] == base {
			return l[1]
		}
	}
	if tag != "" {
		return tag
	}
	return fmt.Sprintf("%s %d", kind, n)
}

// uniqueNames makes NAMEs unique within a group (RFC 8216 §4.3.4.1.1).
func uniqueNames(names []string) []string {
	seen := map[string]int{}
	out := make([]string, len(names))
	for i, n := range names {
		seen[n]++
		out[i] = n
		if seen[n] > 1 {
			out[i] = fmt.Sprintf("%s (%d)", n, seen[n])
		}
	}
	return out
}

// trackScan is what the timeline scan, which reads every packet anyway,
// gathers for the tracks: embedded text subtitles' cues (source 90 kHz
// time) and the frame times of AAC-LC stereo streams that can be copied
// (source samples).
type trackScan struct {
	cues   map[int][]cue
	copies map[int]*copyScan
}

type copyScan struct {
	asc         mpeg4audio.AudioSpecificConfig
	times, durs []int64
	bytes       int64
}

func newTrackScan(in *input, audio []AudioTrack) *trackScan {
	ts := &trackScan{cues: map[int][]cue{}, copies: map[int]*copyScan{}}
	for _, a := range audio {
		if asc, ok := copyable(in.fc.Streams()[a.Stream].CodecParameters()); ok {
			ts.copies[a.Stream] = &copyScan{asc: asc}
		}
	}
	return ts
}

// add takes a packet that is not video.
func (ts *trackScan) add(in *input, pkt *astiav.Packet) {
	st := in.fc.Streams()[pkt.StreamIndex()]
	if pkt.Pts() == astiav.NoPtsValue {
		return
	}
	if c := ts.copies[st.Index()]; c != nil {
		rate := astiav.NewRational(1, c.asc.SampleRate)
		c.times = append(c.times, astiav.RescaleQ(pkt.Pts(), st.TimeBase(), rate))
		c.durs = append(c.durs, max(astiav.RescaleQ(pkt.Duration(), st.TimeBase(), rate), 1))
		c.bytes += int64(pkt.Size())
		return
	}
	id := st.CodecParameters().CodecID()
	if st.CodecParameters().MediaType() != astiav.MediaTypeSubtitle || !textSubtitleCodecs[id] {
		return
	}
	ninety := astiav.NewRational(1, clock)
	start := astiav.RescaleQ(pkt.Pts(), st.TimeBase(), ninety)
	if c, ok := packetCue(id, pkt.Data(), start, astiav.RescaleQ(max(pkt.Duration(), 0), st.TimeBase(), ninety)); ok {
		ts.cues[st.Index()] = append(ts.cues[st.Index()], c)
	}
}

// finish moves the cues onto the item's timeline (0 at the first video
// frame) and into their tracks, and cuts the copied audio streams at the
// segment starts t already has.
func (ts *trackScan) finish(t *Timeline) {
	for i := range t.Subtitles {
		cs := ts.cues[t.Subtitles[i].Stream]
		for j := range cs {
			cs[j].start -= t.T0
			cs[j].end -= t.T0
		}
		t.Subtitles[i].cues = finishCues(cs)
	}
	for i, a := range t.AudioTracks {
		c := ts.copies[a.Stream]
		if c == nil || len(c.times) == 0 {
			continue
		}
		rate := c.asc.SampleRate
		for j := range c.times {
			c.times[j] -= t.T0 * int64(rate) / clock
		}
		cuts, end := audioCuts(c.times, c.durs, rate, t.Starts)
		if len(cuts) == 0 {
			continue
		}
		t.AudioTracks[i].copy = &audioCopy{asc: c.asc, rate: rate, cuts: cuts, end: end}
		t.AudioTracks[i].Copied = true
		// Its average bitrate: BANDWIDTH adds a fifth on top.
		t.AudioTracks[i].Bitrate = int(c.bytes * 8 * int64(rate) / max(end-cuts[0], 1))
	}
}

// subtitleGroup is the GROUP-ID of the subtitle renditions.
const subtitleGroup = "subs"

// mediaGroups is what the master playlist gets from the alternate
// renditions: their EXT-X-MEDIA tags, the AUDIO and SUBTITLES attributes
// every EXT-X-STREAM-INF names them by, and the audio bandwidth each
// variant adds (RFC 8216 §4.3.4.2).
type mediaGroups struct {
	tags    string
	attrs   string
	audioBW int
}

// mediaTags makes the EXT-X-MEDIA tags (RFC 8216 §4.3.4.1) of an item's
// audio and supported subtitle tracks; audioURL and subURL sign their
// media playlists' URLs. The first audio track is DEFAULT; subtitles are
// AUTOSELECT but never DEFAULT: the viewer turns them on.
func mediaTags(tr Tracks, audioURL func(AudioTrack) string, subURL func(SubtitleTrack) string) mediaGroups {
	var g mediaGroups
	var b strings.Builder
	names := make([]string, len(tr.Audio))
	for i, a := range tr.Audio {
		names[i] = a.Name
	}
	for i, name := range uniqueNames(names) {
		a := tr.Audio[i]
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"%s\",NAME=\"%s\"%s,DEFAULT=%s,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"%s\"\n",
			audioGroup, quoted(name), langAttr(a.Language), yesNo(a.Default), audioURL(a))
	}
	if len(tr.Audio) > 0 {
		g.attrs += ",AUDIO=\"" + audioGroup + "\""
	}
	for _, a := range tr.Audio {
		g.audioBW = max(g.audioBW, a.Bitrate) // the group's highest (RFC 8216 §4.3.4.2)
	}
	var subs []SubtitleTrack
	names = names[:0]
	for _, s := range tr.Subtitles {
		if s.Supported {
			subs = append(subs, s)
			names = append(names, s.Name)
		}
	}
	for i, name := range uniqueNames(names) {
		forced := "" // FORCED=YES: only the foreign parts (RFC 8216 §4.3.4.1)
		if subs[i].Forced {
			forced = ",FORCED=YES"
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"%s\",NAME=\"%s\"%s,DEFAULT=NO,AUTOSELECT=YES%s,URI=\"%s\"\n",
			subtitleGroup, quoted(name), langAttr(subs[i].Language), forced, subURL(subs[i]))
	}
	if len(subs) > 0 {
		g.attrs += ",SUBTITLES=\"" + subtitleGroup + "\""
	}
	g.tags = b.String()
	return g
}

func langAttr(tag string) string {
	if tag == "" {
		return ""
	}
	return ",LANGUAGE=\"" + tag + "\""
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// quoted makes s a valid quoted-string value (RFC 8216 §4.2: no double
// quote, CR or LF).
func quoted(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r < ' ' || r == 0x7f:
			return ' '
		}
		return r
	}, s)
}

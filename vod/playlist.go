package vod

import (
	"fmt"
	"math"
	"strings"
)

// Playlists follow RFC 8216 (HTTP Live Streaming), version 7 for fMP4
// segments (§4.3.2.5 EXT-X-MAP, §4.3.3.5 EXT-X-PLAYLIST-TYPE).

// codecs is the RFC 6381 CODECS value of a rendition: H.264 High at a
// level that fits its size (the remux rendition: the source's), AAC-LC.
func codecs(tl *Timeline, r Rendition, audio bool) string {
	level := map[int]string{1080: "28", 720: "1f", 480: "1e"}[r.Height]
	if level == "" {
		level = "15"
	}
	c := "avc1.6400" + level
	if r.Remux && len(tl.remux.sps) >= 4 {
		// The source's own profile, constraints and level (SPS bytes 1-3).
		c = fmt.Sprintf("avc1.%02x%02x%02x", tl.remux.sps[1], tl.remux.sps[2], tl.remux.sps[3])
	}
	if audio {
		c += ",mp4a.40.2"
	}
	return c
}

// masterPlaylist lists the renditions; url gives each media playlist's
// URL; alt is the alternate audio and subtitle renditions (tracks.go).
func masterPlaylist(tl *Timeline, url func(r Rendition) string, alt mediaGroups) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	b.WriteString(alt.tags)
	if tl.AudioOnly {
		audioOnlyVariant(&b, tl, url, alt)
		return b.String()
	}
	fps := ""
	if tl.FPS.Num() > 0 && tl.FPS.Den() > 0 {
		fps = fmt.Sprintf(",FRAME-RATE=%.3f", tl.FPS.Float64())
	}
	for _, r := range Renditions(tl) {
		w, h := outputSize(r, tl.Width, tl.Height)
		if r.Remux {
			w, h = tl.Width, tl.Height
		}
		bw := r.VideoBitrate + alt.audioBW
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,RESOLUTION=%dx%d,CODECS=\"%s\"%s%s\n%s\n",
			bw*6/5, w, h, codecs(tl, r, alt.audioBW > 0), fps, alt.attrs, url(r))
	}
	return b.String()
}

// mediaPlaylist lists every segment with its real duration from the
// timeline; init and seg give URLs.
func mediaPlaylist(tl *Timeline, init string, seg func(k int) string) string {
	target := 1
	for k := range tl.Starts {
		target = max(target, int(math.Round(segSeconds(tl, k))))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n", target)
	b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	if init != "" { // WebVTT segments have none
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"%s\"\n", init)
	}
	for k := range tl.Starts {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\n%s\n", segSeconds(tl, k), seg(k))
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

func segSeconds(tl *Timeline, k int) float64 {
	return float64(tl.SegmentEnd(k)-tl.Starts[k]) / clock
}

// audioOnlyVariant writes the one variant of an audio-only source (a
// music track): its first audio stream's rendition, named by CODECS
// "mp4a.40.2" alone and no RESOLUTION, so players treat it as audio only
// (RFC 8216 §4.3.4.2). alt then holds no audio group: other audio streams
// of such a file are not offered.
func audioOnlyVariant(b *strings.Builder, tl *Timeline, url func(r Rendition) string, alt mediaGroups) {
	as := AudioRenditions(tl)
	if len(as) == 0 {
		return
	}
	fmt.Fprintf(b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,CODECS=\"mp4a.40.2\"%s\n%s\n", as[0].AudioBitrate*6/5, alt.attrs, url(as[0]))
}

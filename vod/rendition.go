package vod

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Rendition is one variant of the master playlist.
type Rendition struct {
	Name         string // "1080p", "720p", ...; "src" for the remux rendition
	Height       int
	VideoBitrate int // bits per second
	AudioBitrate int
	Remux        bool // served as the source is, without encoding
	Audio        bool // an alternate audio rendition (audio.go) of source stream Stream; with Remux, copied (audio_copy.go)
	Stream       int
}

// ladder is the transcoded renditions, highest first.
var ladder = []Rendition{
	{Name: "1080p", Height: 1080, VideoBitrate: 5_000_000, AudioBitrate: 128_000},
	{Name: "720p", Height: 720, VideoBitrate: 2_800_000, AudioBitrate: 128_000},
	{Name: "480p", Height: 480, VideoBitrate: 1_200_000, AudioBitrate: 128_000},
	{Name: "240p", Height: 240, VideoBitrate: 400_000, AudioBitrate: 96_000},
}

// Renditions returns the renditions of a source: the remux rendition
// first when the source is browser-safe, then the ladder, never upscaled;
// a source below 240 lines gets one encoded rendition at its own height;
// an audio-only source has none (its variant is an audio rendition).
func Renditions(tl *Timeline) []Rendition {
	var out []Rendition
	if tl.AudioOnly {
		return nil
	}
	if tl.remux != nil {
		out = append(out, Rendition{Name: remuxName, Height: tl.Height, VideoBitrate: max(tl.remux.bitrate, 100_000), Remux: true})
	}
	n := len(out)
	for _, r := range ladder {
		if r.Height <= tl.Height {
			out = append(out, r)
		}
	}
	if len(out) == n {
		r := ladder[len(ladder)-1]
		r.Height = tl.Height &^ 1
		out = append(out, r)
	}
	return out
}

// findRendition returns the named rendition of a source, video or
// alternate audio.
func findRendition(tl *Timeline, name string) (Rendition, bool) {
	for _, r := range append(Renditions(tl), AudioRenditions(tl)...) {
		if r.Name == name {
			return r, true
		}
	}
	return Rendition{}, false
}

// encoderVersion changes whenever encoding changes in a way that makes
// old segments unfit to mix with new ones. v2: video segments carry no
// audio (it is in the alternate audio renditions); v3: threaded decoder
// and x264 as well.
const encoderVersion = "v3"

// settingsHash names the encoder settings of r at segment length segTicks:
// cached segments of other settings are never mixed in.
func settingsHash(r Rendition, segTicks int64) string {
	if r.Audio && r.Remux {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s|audio-copy|%d|%d", encoderVersion, r.Stream, segTicks)))
		return hex.EncodeToString(h[:8])
	}
	if r.Audio {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s|audio|%d|%d|%d|aac-lc-48k-2ch", encoderVersion, r.Stream, r.AudioBitrate, segTicks)))
		return hex.EncodeToString(h[:8])
	}
	if r.Remux {
		h := sha256.Sum256([]byte(fmt.Sprintf("remux|%s|%d", encoderVersion, segTicks)))
		return hex.EncodeToString(h[:8])
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d|%d|%d|%d|x264-veryfast-high", encoderVersion, r.Name, r.Height, r.VideoBitrate, r.AudioBitrate, segTicks)))
	return hex.EncodeToString(h[:8])
}

// outputSize is the even width and height of r for a source of display
// size w×h.
func outputSize(r Rendition, w, h int) (int, int) {
	oh := min(r.Height, h) &^ 1
	ow := int(float64(w)*float64(oh)/float64(h)+0.5) &^ 1
	return max(ow, 2), max(oh, 2)
}

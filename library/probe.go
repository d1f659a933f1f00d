package library

import (
	"errors"
	"fmt"
	"strings"

	"github.com/asticode/go-astiav"
)

// ErrProbe wraps every probe failure; the item is kept with the message.
var ErrProbe = errors.New("library: probe failed")

// MediaInfo is what libav found in a file.
type MediaInfo struct {
	Container  string           `json:"container,omitempty"`
	DurationMs int64            `json:"durationMs,omitempty"`
	BitRate    int64            `json:"bitRate,omitempty"`
	Video      []VideoStream    `json:"video,omitempty"`
	Audio      []AudioStream    `json:"audio,omitempty"`
	Subtitles  []SubtitleStream `json:"subtitles,omitempty"`
	// CoverArt is the index of an attached picture stream (music), or -1.
	CoverArt int `json:"coverArt"`
	// Tags are the container's metadata (title, artist, album, track, date...),
	// keys lower-cased.
	Tags map[string]string `json:"tags,omitempty"`
}

// VideoStream describes one video stream.
type VideoStream struct {
	Index    int    `json:"index"`
	Codec    string `json:"codec"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Language string `json:"language,omitempty"`
	// HDR is "HDR10" (PQ, SMPTE ST 2084), "HLG" (ARIB STD-B67) or empty.
	HDR       string  `json:"hdr,omitempty"`
	FrameRate float64 `json:"frameRate,omitempty"`
}

// AudioStream describes one audio stream.
type AudioStream struct {
	Index      int    `json:"index"`
	Codec      string `json:"codec"`
	Channels   int    `json:"channels"`
	SampleRate int    `json:"sampleRate"`
	Language   string `json:"language,omitempty"`
	Title      string `json:"title,omitempty"`
}

// SubtitleStream describes one subtitle stream.
type SubtitleStream struct {
	Index    int    `json:"index"`
	Codec    string `json:"codec"`
	Language string `json:"language,omitempty"`
	Title    string `json:"title,omitempty"`
}

// HasVideo reports whether the file has a real video stream (not cover art).
func (m *MediaInfo) HasVideo() bool {
	for _, v := range m.Video {
		if v.Index != m.CoverArt {
			return true
		}
	}
	return false
}

// isPictureCodec reports codecs that, in audio files, carry cover art.
func isPictureCodec(id astiav.CodecID) bool {
	return id == astiav.CodecIDMjpeg || id == astiav.CodecIDPng || id == astiav.CodecIDBmp ||
		id == astiav.CodecIDGif || id == astiav.CodecIDWebp
}

// Probe opens a file with libav (avformat_open_input and
// avformat_find_stream_info) and describes its streams. Any failure is
// returned wrapped in ErrProbe.
func Probe(path string) (MediaInfo, error) {
	fc := astiav.AllocFormatContext()
	if fc == nil {
		return MediaInfo{}, fmt.Errorf("%w: alloc format context", ErrProbe)
	}
	defer fc.Free()
	if err := fc.OpenInput(path, nil, nil); err != nil {
		return MediaInfo{}, fmt.Errorf("%w: open: %v", ErrProbe, err)
	}
	defer fc.CloseInput()
	if err := fc.FindStreamInfo(nil); err != nil {
		return MediaInfo{}, fmt.Errorf("%w: stream info: %v", ErrProbe, err)
	}
	mi := MediaInfo{CoverArt: -1, BitRate: fc.BitRate(), Tags: dictTags(fc.Metadata())}
	if f := fc.InputFormat(); f != nil {
		mi.Container = f.Name()
	}
	if d := fc.Duration(); d > 0 {
		mi.DurationMs = d / 1000 // AV_TIME_BASE is microseconds.
	}
	for _, st := range fc.Streams() {
		cp := st.CodecParameters()
		tags := dictTags(st.Metadata())
		switch cp.MediaType() {
		case astiav.MediaTypeVideo:
			v := VideoStream{Index: st.Index(), Codec: cp.CodecID().Name(), Width: cp.Width(), Height: cp.Height(),
				Language: tags["language"], HDR: hdrOf(cp.ColorTransferCharacteristic())}
			if r := st.AvgFrameRate(); r.Den() != 0 {
				v.FrameRate = float64(r.Num()) / float64(r.Den())
			}
			// Cover art is a one-picture stream in an image codec; the
			// binding exposes no disposition flags.
			if mi.CoverArt < 0 && isPictureCodec(cp.CodecID()) && st.NbFrames() <= 1 {
				mi.CoverArt = st.Index()
			}
			mi.Video = append(mi.Video, v)
		case astiav.MediaTypeAudio:
			mi.Audio = append(mi.Audio, AudioStream{Index: st.Index(), Codec: cp.CodecID().Name(),
				Channels: cp.ChannelLayout().NbChannels(), SampleRate: cp.SampleRate(),
				Language: tags["language"], Title: tags["title"]})
		case astiav.MediaTypeSubtitle:
			mi.Subtitles = append(mi.Subtitles, SubtitleStream{Index: st.Index(), Codec: cp.CodecID().Name(),
				Language: tags["language"], Title: tags["title"]})
		}
	}
	if len(mi.Video) == 0 && len(mi.Audio) == 0 {
		return mi, fmt.Errorf("%w: no audio or video stream", ErrProbe)
	}
	if len(mi.Audio) == 0 {
		mi.CoverArt = -1 // a still image or a picture-codec video, not cover art
	}
	return mi, nil
}

// hdrOf maps a transfer characteristic to an HDR format name.
// ITU-T H.273 table 3: 16 = SMPTE ST 2084 (PQ), 18 = ARIB STD-B67 (HLG).
func hdrOf(t astiav.ColorTransferCharacteristic) string {
	switch t {
	case astiav.ColorTransferCharacteristicSmpte2084:
		return "HDR10"
	case astiav.ColorTransferCharacteristicAribStdB67:
		return "HLG"
	}
	return ""
}

func dictTags(d *astiav.Dictionary) map[string]string {
	if d == nil {
		return nil
	}
	out := map[string]string{}
	var prev *astiav.DictionaryEntry
	for {
		e := d.Get("", prev, astiav.NewDictionaryFlags(astiav.DictionaryFlagIgnoreSuffix))
		if e == nil {
			break
		}
		out[strings.ToLower(e.Key())] = e.Value()
		prev = e
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

package vod

import (
	"fmt"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// Alternate audio renditions. Every audio stream of a source is one
// rendition of the master playlist's audio group (RFC 8216 §4.3.4.1,
// EXT-X-MEDIA TYPE=AUDIO), AAC-LC stereo 48 kHz, named "a<stream index>":
// the stream index is in its cache key. Its segments are cut on the grid
// every run shares, Timeline.AudioStart(k) (segment k's video start
// rounded up to whole AAC frames), made by the same pipeline, encoder
// goroutine and cache as video. Video renditions carry no audio, so one
// AAC encode per language serves every video rendition, the remux one
// included.

// audioGroup is the GROUP-ID of the alternate audio renditions.
const audioGroup = "aac"

// audioDecoder opens the decoder of audio stream index of in.
func audioDecoder(in *input, index int) (*decoder, error) {
	streams := in.fc.Streams()
	if index < 0 || index >= len(streams) || streams[index].CodecParameters().MediaType() != astiav.MediaTypeAudio {
		return nil, fmt.Errorf("%w: stream %d is not an audio stream", ErrNotFound, index)
	}
	return newDecoder(streams[index])
}

// audioInit is the init segment of an alternate audio rendition: one
// AAC-LC track.
func (e *encoders) audioInit() ([]byte, error) {
	var conf mpeg4audio.AudioSpecificConfig
	if err := conf.Unmarshal(e.audio.ExtraData()); err != nil {
		return nil, fmt.Errorf("%w: AAC extradata: %w", ErrEncode, err)
	}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: audioTrack, TimeScale: audioRate, Codec: &mp4codecs.MPEG4Audio{Config: conf}}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("%w: init segment: %w", ErrEncode, err)
	}
	return buf.Bytes(), nil
}

// audioSegmentBytes marshals audio segment k (moof + mdat): AAC frames
// back to back from the segment's first sample on the shared grid.
func audioSegmentBytes(k int, a []audioSample) ([]byte, error) {
	if len(a) == 0 {
		return nil, fmt.Errorf("%w: audio segment %d has no decodable audio", errEmptySegment, k)
	}
	at := &fmp4.PartTrack{ID: audioTrack, BaseTime: uint64(a[0].pts)}
	for _, s := range a {
		at.Samples = append(at.Samples, &fmp4.Sample{Duration: uint32(s.dur), Payload: s.data})
	}
	part := fmp4.Part{SequenceNumber: uint32(k + 1), Tracks: []*fmp4.PartTrack{at}}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("%w: audio segment %d: %w", ErrEncode, k, err)
	}
	return buf.Bytes(), nil
}

package vod

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// errEmptySegment fails one segment whose pictures could not be decoded.
var errEmptySegment = fmt.Errorf("%w: no usable pictures", ErrSource)

// Track IDs in every init segment.
const (
	videoTrack = 1
	audioTrack = 2
)

// encoders is one rendition's H.264 and AAC-LC encoders. Same settings,
// same extradata: the init segment of any run fits every run's segments.
type encoders struct {
	video *astiav.CodecContext
	audio *astiav.CodecContext // nil without audio
	pkt   *astiav.Packet
}

// newEncoders opens r's encoder: H.264 for a video rendition, AAC-LC for
// an alternate audio rendition.
func newEncoders(tl *Timeline, r Rendition, segTicks int64) (*encoders, error) {
	e := &encoders{pkt: astiav.AllocPacket()}
	if r.Audio {
		if err := e.openAudio(r); err != nil {
			return nil, err
		}
		return e, nil
	}
	codec := astiav.FindEncoderByName("libx264")
	if codec == nil {
		e.free()
		return nil, fmt.Errorf("%w: libx264 not available", ErrEncode)
	}
	w, h := outputSize(r, tl.Width, tl.Height)
	e.video = astiav.AllocCodecContext(codec)
	e.video.SetWidth(w)
	e.video.SetHeight(h)
	e.video.SetPixelFormat(astiav.PixelFormatYuv420P)
	e.video.SetTimeBase(astiav.NewRational(1, clock))
	if tl.FPS.Num() > 0 && tl.FPS.Den() > 0 {
		e.video.SetFramerate(tl.FPS)
	}
	e.video.SetBitRate(int64(r.VideoBitrate))
	e.video.SetThreadCount(codecThreads())
	e.video.SetFlags(astiav.NewCodecContextFlags(astiav.CodecContextFlagGlobalHeader))
	// Keyframes come where vod forces them, at segment starts; the GOP
	// limit only backs that up. No B-frames: decode order is
	// presentation order, so a segment's samples need no composition
	// offsets and its cut is exact.
	e.video.SetGopSize(int(segTicks * 30 / clock))
	opts := astiav.NewDictionary()
	defer opts.Free()
	br := strconv.Itoa(r.VideoBitrate)
	_ = opts.Set("preset", "veryfast", 0)
	_ = opts.Set("profile", "high", 0)
	_ = opts.Set("bf", "0", 0)
	_ = opts.Set("forced-idr", "1", 0)
	_ = opts.Set("maxrate", br, 0)
	_ = opts.Set("bufsize", strconv.Itoa(2*r.VideoBitrate), 0)
	if err := e.video.Open(codec, opts); err != nil {
		e.free()
		return nil, fmt.Errorf("%w: opening libx264 %dx%d: %w", ErrEncode, w, h, err)
	}
	return e, nil
}

// openAudio opens the AAC-LC stereo 48 kHz encoder; on failure e is freed.
func (e *encoders) openAudio(r Rendition) error {
	ac := astiav.FindEncoderByName("aac")
	if ac == nil {
		e.free()
		return fmt.Errorf("%w: aac encoder not available", ErrEncode)
	}
	e.audio = astiav.AllocCodecContext(ac)
	e.audio.SetSampleRate(audioRate)
	e.audio.SetChannelLayout(astiav.ChannelLayoutStereo)
	e.audio.SetSampleFormat(astiav.SampleFormatFltp)
	e.audio.SetTimeBase(astiav.NewRational(1, audioRate))
	e.audio.SetBitRate(int64(r.AudioBitrate))
	e.audio.SetFlags(astiav.NewCodecContextFlags(astiav.CodecContextFlagGlobalHeader))
	e.audio.SetThreadCount(1)
	if err := e.audio.Open(ac, nil); err != nil {
		e.free()
		return fmt.Errorf("%w: opening aac: %w", ErrEncode, err)
	}
	return nil
}

// codecThreads is the threads of one video decoder or encoder: every core
// (up to 4), so the segment a viewer waits for is made as fast as the
// machine allows; vod.workers bounds how many run at once. x264 output
// stays deterministic with threads (x264's default).
func codecThreads() int { return min(max(runtime.NumCPU(), 1), 4) }

func (e *encoders) free() {
	if e.video != nil {
		e.video.Free()
	}
	if e.audio != nil {
		e.audio.Free()
	}
	if e.pkt != nil {
		e.pkt.Free()
	}
}

// initSegment is the fMP4 init segment (ftyp + moov) for e's stream.
func (e *encoders) initSegment() ([]byte, error) {
	if e.video == nil {
		return e.audioInit()
	}
	var ab h264.AnnexB
	if err := ab.Unmarshal(e.video.ExtraData()); err != nil {
		return nil, fmt.Errorf("%w: H.264 extradata: %w", ErrEncode, err)
	}
	var sps, pps []byte
	for _, n := range ab {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	if sps == nil || pps == nil {
		return nil, fmt.Errorf("%w: H.264 extradata without SPS and PPS", ErrEncode)
	}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: videoTrack, TimeScale: clock, Codec: &mp4codecs.H264{SPS: sps, PPS: pps}}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("%w: init segment: %w", ErrEncode, err)
	}
	return buf.Bytes(), nil
}

// videoSample is one encoded picture at t (90 kHz from the first frame).
type videoSample struct {
	t    int64
	key  bool
	avcc []byte
}

// audioSample is one AAC frame at pts (48 kHz samples from the first frame).
type audioSample struct {
	pts  int64
	dur  int64
	data []byte
}

// segmentBytes marshals segment k (moof + mdat): video samples last until
// the next one, the last until the segment's end on the timeline.
func segmentBytes(tl *Timeline, k int, v []videoSample, a []audioSample) ([]byte, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("%w: segment %d has no decodable video", errEmptySegment, k)
	}
	if !v[0].key {
		return nil, fmt.Errorf("%w: segment %d does not start with a keyframe", errEmptySegment, k)
	}
	vt := &fmp4.PartTrack{ID: videoTrack, BaseTime: uint64(v[0].t)}
	for i, s := range v {
		end := tl.SegmentEnd(k)
		if i+1 < len(v) {
			end = v[i+1].t
		}
		vt.Samples = append(vt.Samples, &fmp4.Sample{Duration: uint32(end - s.t), IsNonSyncSample: !s.key, Payload: s.avcc})
	}
	part := fmp4.Part{SequenceNumber: uint32(k + 1), Tracks: []*fmp4.PartTrack{vt}}
	if len(a) > 0 {
		at := &fmp4.PartTrack{ID: audioTrack, BaseTime: uint64(a[0].pts)}
		for _, s := range a {
			at.Samples = append(at.Samples, &fmp4.Sample{Duration: uint32(s.dur), Payload: s.data})
		}
		part.Tracks = append(part.Tracks, at)
	}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("%w: segment %d: %w", ErrEncode, k, err)
	}
	return buf.Bytes(), nil
}

// toAVCC turns libx264's Annex-B output into length-prefixed NAL units.
func toAVCC(annexB []byte) ([]byte, error) {
	var ab h264.AnnexB
	if err := ab.Unmarshal(annexB); err != nil {
		return nil, fmt.Errorf("%w: H.264 output: %w", ErrEncode, err)
	}
	out, err := h264.AVCC(ab).Marshal()
	if err != nil {
		return nil, fmt.Errorf("%w: H.264 output: %w", ErrEncode, err)
	}
	return bytes.Clone(out), nil
}

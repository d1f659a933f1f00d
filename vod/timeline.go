package vod

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/asticode/go-astiav"
)

// clock is the time base of everything vod computes: 90 kHz, the video
// timescale of the segments.
const clock = 90000

// audioRate is the sample rate of every AAC rendition; audioFrame its
// frame length in samples.
const (
	audioRate  = 48000
	audioFrame = 1024
)

// Timeline is the source's real video timeline (an audio-only source's:
// its audio's), from a demux-only scan (no decoding): the presentation
// time of every video frame in 90 kHz ticks from the first frame, and the
// segments cut from it.
type Timeline struct {
	Frames   []int64    // sorted presentation times, first is 0
	End      int64      // end of the last frame
	Starts   []int64    // segment start times: the first frame at or after k*D
	Keyframe []bool     // per frame: a keyframe in the source
	T0       int64      // source pts of the first frame, 90 kHz
	remux    *remuxInfo // nil when the source is not browser-safe as is
	HasAudio bool
	// AudioOnly: the source has no video (a music track; cover art does
	// not count). Its first audio stream's packets are the Frames, and its
	// master playlist has one audio-only variant (playlist.go).
	AudioOnly bool
	Width     int // display width (sample aspect applied) and height, upright
	Height    int
	Rotation  int
	FPS       astiav.Rational // average frame rate, for the encoder's level
	Codec     string          // source video and audio codec names
	Audio     string

	AudioTracks []AudioTrack    // every decodable audio stream: the alternate audio renditions
	Subtitles   []SubtitleTrack // embedded subtitle streams, text ones with their cues
	FileStart   int64           // the container's start time, 90 kHz: sidecar cue times count from it
}

// Segments is the number of segments.
func (t *Timeline) Segments() int { return len(t.Starts) }

// SegmentEnd is where segment k ends.
func (t *Timeline) SegmentEnd(k int) int64 {
	if k+1 < len(t.Starts) {
		return t.Starts[k+1]
	}
	return t.End
}

// Segment returns the segment holding time ts (90 kHz).
func (t *Timeline) Segment(ts int64) int {
	return sort.Search(len(t.Starts), func(i int) bool { return t.Starts[i] > ts }) - 1
}

// AudioStart is the first audio sample (48 kHz) of segment k: segment
// starts rounded up to whole AAC frames, so every run, sequential or
// started by a seek, cuts audio on the same grid.
func (t *Timeline) AudioStart(k int) int64 {
	if k >= len(t.Starts) {
		return 1 << 62
	}
	s := (t.Starts[k]*audioRate + clock - 1) / clock
	return (s + audioFrame - 1) / audioFrame * audioFrame
}

// scan opens f (already checked to be under the library root) and reads
// its packets' timestamps: the video's, or for an audio-only source (a
// music track) the first audio stream's, which then drives the segments.
func scan(f *os.File, segTicks int64) (*Timeline, error) {
	in, err := openInput(f)
	if err != nil {
		return nil, err
	}
	defer in.close()
	drv := in.video
	if drv == nil {
		drv = in.audio
	}
	if drv == nil {
		return nil, fmt.Errorf("%w: no video or audio stream", ErrUnsupported)
	}
	t := &Timeline{HasAudio: in.audio != nil, AudioOnly: in.video == nil, Rotation: in.rotation}
	if v := in.video; v != nil {
		cp := v.CodecParameters()
		t.Codec, t.FPS = cp.CodecID().Name(), v.AvgFrameRate()
		t.Width, t.Height = displaySize(cp.Width(), cp.Height(), v.SampleAspectRatio(), cp.SampleAspectRatio())
		if in.rotation == 90 || in.rotation == 270 {
			t.Width, t.Height = t.Height, t.Width
		}
	}
	if in.audio != nil {
		t.Audio = in.audio.CodecParameters().CodecID().Name()
	}
	t.AudioTracks, t.Subtitles = listTracks(in)
	tracks := newTrackScan(in, t.AudioTracks)
	sc, err := scanPackets(in, drv, tracks)
	if err != nil {
		return nil, err
	}
	if len(sc.frames) == 0 {
		return nil, fmt.Errorf("%w: no %s frames", ErrSource, drv.CodecParameters().MediaType())
	}
	t.setFrames(sc.frames, sc.lastDur)
	if st := in.fc.StartTime(); st != astiav.NoPtsValue {
		t.FileStart = astiav.RescaleQ(st, astiav.TimeBaseQ, astiav.NewRational(1, clock))
	}
	t.cut(segTicks)
	tracks.finish(t)
	if in.video != nil {
		t.remux = remuxable(in, t, sc, segTicks)
	}
	return t, nil
}

// scanned is what scanPackets reads of the stream driving the timeline.
type scanned struct {
	frames  []scannedFrame
	lastDur int64 // the last packet's duration, 90 kHz; 0 when unknown
	minDTS  int64 // the lowest DTS, 90 kHz
	bytes   int64 // every packet's size added up
}

// scanPackets reads every packet of in: the timestamps (90 kHz) and sizes
// of drv's, the stream that drives the timeline; every other packet, and
// drv's too when it is audio, goes to tracks.
func scanPackets(in *input, drv *astiav.Stream, tracks *trackScan) (*scanned, error) {
	sc := &scanned{minDTS: math.MaxInt64}
	tb, ninety := drv.TimeBase(), astiav.NewRational(1, clock)
	audio := drv.CodecParameters().MediaType() == astiav.MediaTypeAudio
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for {
		pkt.Unref()
		if err := in.fc.ReadFrame(pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return sc, nil
			}
			return nil, fmt.Errorf("%w: scanning: %w", ErrSource, err)
		}
		if pkt.StreamIndex() != drv.Index() || audio {
			tracks.add(in, pkt)
		}
		if pkt.StreamIndex() != drv.Index() {
			continue
		}
		sc.bytes += int64(pkt.Size())
		ts := pkt.Pts()
		if ts == astiav.NoPtsValue {
			ts = pkt.Dts()
		}
		if ts == astiav.NoPtsValue {
			continue
		}
		// Every audio packet is a point a segment may start at.
		sc.frames = append(sc.frames, scannedFrame{astiav.RescaleQ(ts, tb, ninety), audio || pkt.Flags().Has(astiav.PacketFlagKey)})
		if pkt.Dts() != astiav.NoPtsValue {
			sc.minDTS = min(sc.minDTS, astiav.RescaleQ(pkt.Dts(), tb, ninety))
		}
		if d := pkt.Duration(); d > 0 {
			sc.lastDur = astiav.RescaleQ(d, tb, ninety)
		}
	}
}

// scannedFrame is one video packet's presentation time (90 kHz) and
// keyframe flag, in decode order.
type scannedFrame struct {
	pts int64
	key bool
}

// setFrames sets T0, Frames, Keyframe and End from the scanned frames
// (duplicate times dropped); lastDur is the last packet's duration, 0
// when the container gives none.
func (t *Timeline) setFrames(frames []scannedFrame, lastDur int64) {
	sort.Slice(frames, func(i, j int) bool { return frames[i].pts < frames[j].pts })
	t0 := frames[0].pts
	t.T0 = t0
	for i, f := range frames {
		if i > 0 && f.pts == frames[i-1].pts {
			continue
		}
		t.Frames = append(t.Frames, f.pts-t0)
		t.Keyframe = append(t.Keyframe, f.key)
	}
	n := len(t.Frames)
	if lastDur <= 0 {
		lastDur = clock / 25
		if n > 1 {
			lastDur = t.Frames[n-1] / int64(n-1)
		}
	}
	t.End = t.Frames[n-1] + lastDur
}

// cut recomputes Starts: segment k starts at the first frame at or after
// k*D; multiples of D inside a gap with no frame start no segment.
func (t *Timeline) cut(segTicks int64) *Timeline {
	t.Starts = t.Starts[:0]
	next := int64(0)
	for _, ts := range t.Frames {
		if ts >= next {
			t.Starts = append(t.Starts, ts)
			next = (ts/segTicks + 1) * segTicks
		}
	}
	return t
}

func displaySize(w, h int, sars ...astiav.Rational) (int, int) {
	for _, sar := range sars {
		if sar.Num() > 0 && sar.Den() > 0 && sar.Num() != sar.Den() {
			return int(float64(w)*sar.Float64() + 0.5), h
		}
	}
	return w, h
}

// remuxable returns what the remux rendition needs, or nil when the
// source is not 8-bit 4:2:0 H.264 (avcC, upright) starting on a
// keyframe. Its audio, whatever the codec, is the alternate audio, so
// its bit rate is its video's alone (sc.bytes over the timeline).
func remuxable(in *input, t *Timeline, sc *scanned, segTicks int64) *remuxInfo {
	cp := in.video.CodecParameters()
	if cp.CodecID() != astiav.CodecIDH264 || len(t.Keyframe) == 0 || !t.Keyframe[0] || t.Rotation != 0 {
		return nil
	}
	// 8-bit 4:2:0 only: browsers do not decode 10-bit or 4:2:2 H.264.
	if pf := cp.PixelFormat(); pf != astiav.PixelFormatYuv420P && pf != astiav.PixelFormatYuvj420P {
		return nil
	}
	sps, pps, ok := parseAVCC(cp.ExtraData())
	if !ok {
		return nil
	}
	ri := &remuxInfo{sps: bytes.Clone(sps), pps: bytes.Clone(pps), bitrate: int(sc.bytes * 8 * clock / max(t.End, 1))}
	if sc.minDTS < t.T0 {
		ri.dtsShift = t.T0 - sc.minDTS
	}
	ri.starts = remuxCuts(t.Frames, t.Keyframe, segTicks)
	return ri
}

// view is the timeline as rendition r cuts it: the remux rendition cuts
// at source keyframes, an alternate audio rendition at AudioStart(k) (on
// the 90 kHz clock exactly: 1024 samples at 48 kHz are 1920 ticks), the
// others at the first frame after each k*D.
func (t *Timeline) view(r Rendition) *Timeline {
	if r.Audio {
		if ac := t.audioCopy(r.Stream); ac != nil {
			return t.copyView(ac)
		}
		c := *t
		c.Starts = make([]int64, len(t.Starts))
		for k := range t.Starts {
			c.Starts[k] = min(t.AudioStart(k)*clock/audioRate, t.End)
		}
		return &c
	}
	if !r.Remux || t.remux == nil {
		return t
	}
	c := *t
	c.Starts = t.remux.starts
	return &c
}

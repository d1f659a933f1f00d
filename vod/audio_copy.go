package vod

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// Copied audio. An audio stream that is already AAC-LC stereo is served
// as it is, like the remux video rendition: no decode, no encode, and a
// cold start that costs no more than reading the packets. Its segments
// are cut at source AAC frames: segment k starts at the first frame at or
// after the encoded renditions' segment k start, so they follow the same
// k*D grid to within one AAC frame.

// audioCopy is what serving an audio stream as it is needs, read at scan.
type audioCopy struct {
	asc  mpeg4audio.AudioSpecificConfig
	rate int     // its sample rate, the segments' timescale
	cuts []int64 // segment starts, samples from the first video frame
	end  int64   // end of its last frame, samples
}

// copyable returns the AudioSpecificConfig of an AAC-LC stereo stream.
func copyable(cp *astiav.CodecParameters) (mpeg4audio.AudioSpecificConfig, bool) {
	var asc mpeg4audio.AudioSpecificConfig
	if cp.CodecID() != astiav.CodecIDAac || asc.Unmarshal(cp.ExtraData()) != nil {
		return asc, false
	}
	return asc, asc.Type == mpeg4audio.ObjectTypeAACLC && asc.ChannelConfig == 2 && asc.SampleRate > 0
}

// audioCuts computes a copied stream's segment starts from its packets'
// times (samples from the first video frame, any order) and the video
// segment starts (90 kHz): the first packet at or after each; segments
// that would be empty are left out.
func audioCuts(times, durs []int64, rate int, starts []int64) ([]int64, int64) {
	idx := make([]int, len(times))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	var cuts []int64
	var end int64
	j := 0
	for _, s := range starts {
		target := (s*int64(rate) + clock - 1) / clock
		for j < len(idx) && times[idx[j]] < target {
			j++
		}
		if j < len(idx) && (len(cuts) == 0 || times[idx[j]] > cuts[len(cuts)-1]) {
			cuts = append(cuts, times[idx[j]])
		}
	}
	if n := len(idx); n > 0 {
		end = times[idx[n-1]] + durs[idx[n-1]]
	}
	return cuts, end
}

// copyView is the timeline of a copied audio rendition: its cuts on the
// 90 kHz clock (rounded: #EXTINF only) and its end.
func (t *Timeline) copyView(ac *audioCopy) *Timeline {
	c := *t
	c.Starts = make([]int64, len(ac.cuts))
	for k, s := range ac.cuts {
		c.Starts[k] = s * clock / int64(ac.rate)
	}
	c.End = ac.end * clock / int64(ac.rate)
	return &c
}

// audioCopy is the copy information of audio stream index, nil when it
// is encoded.
func (t *Timeline) audioCopy(index int) *audioCopy {
	for _, a := range t.AudioTracks {
		if a.Stream == index {
			return a.copy
		}
	}
	return nil
}

// copyInit is a copied audio rendition's init segment.
func copyInit(ac *audioCopy) ([]byte, error) {
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: audioTrack, TimeScale: uint32(ac.rate), Codec: &mp4codecs.MPEG4Audio{Config: ac.asc}}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("%w: init segment: %w", ErrEncode, err)
	}
	return buf.Bytes(), nil
}

// audioCopier copies one audio stream's packets into segments, one after
// another from segment `next`.
type audioCopier struct {
	tl   *Timeline
	ac   *audioCopy
	in   *input
	st   *astiav.Stream
	pkt  *astiav.Packet
	next int
	read int64 // end of the last packet read, samples
	eof  bool
	segs map[int][]audioSample
}

func newAudioCopier(f *os.File, tl *Timeline, ac *audioCopy, stream, k int) (*audioCopier, error) {
	in, err := openInput(f)
	if err != nil {
		return nil, err
	}
	streams := in.fc.Streams()
	if stream < 0 || stream >= len(streams) {
		in.close()
		return nil, fmt.Errorf("%w: no stream %d", ErrNotFound, stream)
	}
	c := &audioCopier{tl: tl, ac: ac, in: in, st: streams[stream], pkt: astiav.AllocPacket(), next: k, segs: map[int][]audioSample{}}
	if k > 0 {
		ts := astiav.RescaleQ(ac.cuts[k]*clock/int64(ac.rate)+tl.T0, astiav.NewRational(1, clock), astiav.TimeBaseQ)
		if err := in.fc.SeekFrame(-1, ts, astiav.NewSeekFlags(astiav.SeekFlagBackward)); err != nil {
			c.close()
			return nil, fmt.Errorf("%w: seek to audio segment %d: %w", ErrSource, k, err)
		}
	}
	return c, nil
}

func (c *audioCopier) close() {
	c.pkt.Free()
	c.in.close()
}

func (c *audioCopier) nextIndex() int { return c.next }

func (c *audioCopier) segmentEnd(k int) int64 {
	if k+1 < len(c.ac.cuts) {
		return c.ac.cuts[k+1]
	}
	return c.ac.end
}

func (c *audioCopier) nextSegment() (int, []byte, error) {
	k := c.next
	if k >= len(c.ac.cuts) {
		return k, nil, fmt.Errorf("%w: audio segment %d of %d", ErrNotFound, k, len(c.ac.cuts))
	}
	for !c.eof && c.read < c.segmentEnd(k) {
		if err := c.step(); err != nil {
			return k, nil, err
		}
	}
	c.next++
	a := c.segs[k]
	delete(c.segs, k)
	sort.Slice(a, func(i, j int) bool { return a[i].pts < a[j].pts })
	if len(a) == 0 {
		return k, nil, fmt.Errorf("%w: audio segment %d has no packets", errEmptySegment, k)
	}
	at := &fmp4.PartTrack{ID: audioTrack, BaseTime: uint64(a[0].pts)}
	for i, s := range a {
		if i+1 < len(a) {
			s.dur = a[i+1].pts - s.pts // no gaps inside a segment
		}
		at.Samples = append(at.Samples, &fmp4.Sample{Duration: uint32(max(s.dur, 1)), Payload: s.data})
	}
	part := fmp4.Part{SequenceNumber: uint32(k + 1), Tracks: []*fmp4.PartTrack{at}}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return k, nil, fmt.Errorf("%w: audio segment %d: %w", ErrEncode, k, err)
	}
	return k, buf.Bytes(), nil
}

// step reads one packet and files it under its segment.
func (c *audioCopier) step() error {
	c.pkt.Unref()
	if err := c.in.fc.ReadFrame(c.pkt); err != nil {
		if !errors.Is(err, astiav.ErrEof) {
			return fmt.Errorf("%w: read: %w", ErrSource, err)
		}
		c.eof = true
		return nil
	}
	p := c.pkt
	if p.StreamIndex() != c.st.Index() || p.Pts() == astiav.NoPtsValue {
		return nil
	}
	rate := astiav.NewRational(1, c.ac.rate)
	t := astiav.RescaleQ(p.Pts(), c.st.TimeBase(), rate) - c.tl.T0*int64(c.ac.rate)/clock
	dur := astiav.RescaleQ(p.Duration(), c.st.TimeBase(), rate)
	if dur <= 0 {
		dur = audioFrame
	}
	c.read = max(c.read, t+dur)
	k := sort.Search(len(c.ac.cuts), func(i int) bool { return c.ac.cuts[i] > t }) - 1
	if k < c.next || t < 0 {
		return nil // before this run's segment (read after the seek), or priming before the first frame
	}
	c.segs[k] = append(c.segs[k], audioSample{pts: t, dur: dur, data: append([]byte(nil), p.Data()...)})
	return nil
}

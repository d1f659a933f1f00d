package vod

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/asticode/go-astiav"
	"github.com/marquee-party/marquee/media"
)

// pipeline is one encoding run of one rendition: demux → decode → filter
// → encode, from the start of segment `start` onwards, handing out whole
// segments in order. It is owned by one goroutine (the rendition's
// encoder) and never shared.
type pipeline struct {
	tl       *Timeline
	r        Rendition
	segTicks int64
	in       *input
	vdec     *decoder
	adec     *decoder
	vgraph   *media.FilterGraph
	agraph   *media.FilterGraph
	enc      *encoders
	pkt      *astiav.Packet

	start, next int
	eof         bool
	vLast       int64 // pts of the last encoded picture, -1 before any
	aEnd        int64 // end of the last encoded AAC frame
	aSent       int64 // samples sent to the AAC encoder
	aBase       int64 // first audio sample of this run
	video       map[int][]videoSample
	audio       map[int][]audioSample
	failed      map[int]error
}

// newPipeline opens f and positions a run at segment k: it seeks to the
// keyframe before the segment's start and decodes forward from there,
// dropping what comes before, so its segments have the same boundaries and
// timestamps as a run from the beginning.
func newPipeline(f *os.File, tl *Timeline, r Rendition, segTicks int64, k int) (*pipeline, error) {
	in, err := openInput(f)
	if err != nil {
		return nil, err
	}
	p := &pipeline{tl: tl, r: r, segTicks: segTicks, in: in, pkt: astiav.AllocPacket(), start: k, next: k, vLast: -1,
		video: map[int][]videoSample{}, audio: map[int][]audioSample{}, failed: map[int]error{}}
	p.aBase = tl.AudioStart(k)
	p.aEnd = p.aBase
	if in.video == nil && !r.Audio {
		p.close()
		return nil, fmt.Errorf("%w: no video stream", ErrUnsupported)
	}
	if k > 0 {
		ts := astiav.RescaleQ(tl.Starts[k]+tl.T0, astiav.NewRational(1, clock), astiav.TimeBaseQ)
		if err := in.fc.SeekFrame(-1, ts, astiav.NewSeekFlags(astiav.SeekFlagBackward)); err != nil {
			p.close()
			return nil, fmt.Errorf("%w: seek to segment %d: %w", ErrSource, k, err)
		}
	}
	// A video rendition decodes the video only; an alternate audio
	// rendition (audio.go) its one audio stream.
	if r.Audio {
		p.adec, err = audioDecoder(in, r.Stream)
	} else {
		p.vdec, err = newDecoder(in.video)
	}
	if err != nil {
		p.close()
		return nil, err
	}
	if p.enc, err = newEncoders(tl, r, segTicks); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *pipeline) nextIndex() int { return p.next }

func (p *pipeline) close() {
	p.vdec.free()
	p.adec.free()
	if p.vgraph != nil {
		p.vgraph.Free()
	}
	if p.agraph != nil {
		p.agraph.Free()
	}
	if p.enc != nil {
		p.enc.free()
	}
	if p.pkt != nil {
		p.pkt.Free()
	}
	p.in.close()
}

// nextSegment encodes until segment p.next is complete and returns its
// index and bytes. An error that a corrupt region caused fails only the
// segments it touches: the run goes on with the next one.
func (p *pipeline) nextSegment() (int, []byte, error) {
	k := p.next
	if k >= p.tl.Segments() {
		return k, nil, fmt.Errorf("%w: segment %d of %d", ErrNotFound, k, p.tl.Segments())
	}
	for !p.complete(k) {
		if err := p.step(); err != nil {
			return k, nil, err
		}
	}
	p.next++
	v, a := p.video[k], p.audio[k]
	delete(p.video, k)
	delete(p.audio, k)
	if err, bad := p.failed[k]; bad {
		delete(p.failed, k)
		return k, nil, err
	}
	if p.r.Audio {
		b, err := audioSegmentBytes(k, a)
		return k, b, err
	}
	sort.Slice(v, func(i, j int) bool { return v[i].t < v[j].t })
	b, err := segmentBytes(p.tl, k, v, nil)
	return k, b, err
}

func (p *pipeline) complete(k int) bool {
	if p.eof {
		return true
	}
	if p.vdec != nil {
		return p.vLast >= p.tl.SegmentEnd(k)
	}
	return p.aEnd >= p.tl.AudioStart(k+1)
}

// step reads one packet and runs it through; at the end of input it
// flushes everything.
func (p *pipeline) step() error {
	p.pkt.Unref()
	if err := p.in.fc.ReadFrame(p.pkt); err != nil {
		if !errors.Is(err, astiav.ErrEof) {
			// A read error past a corrupt region: treat as the end.
			p.fail(p.next, fmt.Errorf("%w: read: %w", ErrSource, err))
		}
		return p.flush()
	}
	switch {
	case p.vdec != nil && p.pkt.StreamIndex() == p.in.video.Index():
		return p.decodeVideo(p.pkt)
	case p.adec != nil && p.pkt.StreamIndex() == p.adec.st.Index():
		return p.decodeAudio(p.pkt)
	}
	return nil
}

func (p *pipeline) flush() error {
	p.eof = true
	if p.vdec != nil {
		return p.flushVideo()
	}
	if err := p.decodeAudio(nil); err != nil {
		return err
	}
	if p.agraph != nil {
		if err := p.filterAudio(nil); err != nil {
			return err
		}
	}
	return p.encodeAudio(nil)
}

func (p *pipeline) flushVideo() error {
	if err := p.decodeVideo(nil); err != nil {
		return err
	}
	if p.vgraph != nil {
		if err := p.filterVideo(nil); err != nil {
			return err
		}
	}
	return p.encodeVideo(nil)
}

// fail marks segment k as failed by err (the first error wins).
func (p *pipeline) fail(k int, err error) {
	if k < p.start || k < 0 {
		return
	}
	if _, ok := p.failed[k]; !ok {
		p.failed[k] = err
	}
}

// videoTime is a video pts as 90 kHz ticks from the first frame.
func (p *pipeline) videoTime(pts int64) int64 {
	return astiav.RescaleQ(pts, p.in.video.TimeBase(), astiav.NewRational(1, clock)) - p.tl.T0
}

func (p *pipeline) decodeVideo(pkt *astiav.Packet) error {
	d := p.vdec
	if pkt != nil && pkt.Flags().Has(astiav.PacketFlagCorrupt) {
		p.fail(p.tl.Segment(p.videoTime(pkt.Pts())), fmt.Errorf("%w: corrupt video packet", ErrSource))
	}
	if err := d.cc.SendPacket(pkt); err != nil && !isAgainOrEOF(err) {
		at := p.next
		if pkt != nil && pkt.Pts() != astiav.NoPtsValue {
			at = p.tl.Segment(p.videoTime(pkt.Pts()))
		}
		p.fail(at, fmt.Errorf("%w: video decode: %w", ErrSource, err))
		return nil
	}
	for {
		d.frame.Unref()
		if err := d.cc.ReceiveFrame(d.frame); err != nil {
			if isAgainOrEOF(err) {
				return nil
			}
			p.fail(p.next, fmt.Errorf("%w: video decode: %w", ErrSource, err))
			return nil
		}
		pts := d.frame.Pts()
		if pts == astiav.NoPtsValue {
			continue
		}
		t := p.videoTime(pts)
		if t < p.tl.Starts[p.start] {
			continue // before this run's first segment (decoded from the keyframe before it)
		}
		d.frame.SetPts(t)
		if err := p.filterVideo(d.frame); err != nil {
			return err
		}
	}
}

func (p *pipeline) filterVideo(f *astiav.Frame) error {
	if p.vgraph == nil {
		w, h := outputSize(p.r, p.tl.Width, p.tl.Height)
		g, err := media.NewVideoGraph(f, astiav.NewRational(1, clock), media.ScaleChain(w, h, p.tl.Rotation))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrEncode, err)
		}
		p.vgraph = g
	}
	if err := p.vgraph.Push(f); err != nil {
		return fmt.Errorf("%w: %w", ErrEncode, err)
	}
	for {
		out, err := p.vgraph.Pull()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrEncode, err)
		}
		if out == nil {
			return nil
		}
		t := out.Pts()
		out.SetPictureType(astiav.PictureTypeNone)
		if k := p.tl.Segment(t); k >= 0 && p.tl.Starts[k] == t {
			out.SetPictureType(astiav.PictureTypeI) // a segment starts here
		}
		if err := p.encodeVideo(out); err != nil {
			return err
		}
	}
}

func (p *pipeline) encodeVideo(f *astiav.Frame) error {
	return encode(p.enc.video, p.enc.pkt, f, "libx264", func(pkt *astiav.Packet) error {
		avcc, err := toAVCC(pkt.Data())
		if err != nil {
			return err
		}
		t := pkt.Pts()
		k := p.tl.Segment(t)
		p.video[k] = append(p.video[k], videoSample{t: t, key: pkt.Flags().Has(astiav.PacketFlagKey), avcc: avcc})
		p.vLast = max(p.vLast, t)
		return nil
	})
}

// encode sends f (nil flushes) to enc and hands each packet it has ready
// to take, in order; name says which encoder failed.
func encode(enc *astiav.CodecContext, pkt *astiav.Packet, f *astiav.Frame, name string, take func(*astiav.Packet) error) error {
	if err := enc.SendFrame(f); err != nil && !isAgainOrEOF(err) {
		return fmt.Errorf("%w: %s: %w", ErrEncode, name, err)
	}
	for {
		pkt.Unref()
		if err := enc.ReceivePacket(pkt); err != nil {
			if isAgainOrEOF(err) {
				return nil
			}
			return fmt.Errorf("%w: %s: %w", ErrEncode, name, err)
		}
		if err := take(pkt); err != nil {
			return err
		}
	}
}

package vod

import (
	"fmt"
	"sort"

	"github.com/asticode/go-astiav"
	"github.com/marquee-party/marquee/media"
)

// audioTB is the time base of audio on its way to the encoder.
var audioTB = astiav.NewRational(1, audioRate)

// audioTime is an audio pts as 48 kHz samples from the first video frame.
func (p *pipeline) audioTime(pts int64) int64 {
	return astiav.RescaleQ(pts, p.adec.st.TimeBase(), audioTB) - p.tl.T0*audioRate/clock
}

// audioSegment is the segment whose audio holds sample s.
func (p *pipeline) audioSegment(s int64) int {
	n := p.tl.Segments()
	return sort.Search(n, func(i int) bool { return p.tl.AudioStart(i) > s }) - 1
}

func (p *pipeline) decodeAudio(pkt *astiav.Packet) error {
	d := p.adec
	if err := d.cc.SendPacket(pkt); err != nil && !isAgainOrEOF(err) {
		at := p.next
		if pkt != nil && pkt.Pts() != astiav.NoPtsValue {
			at = p.audioSegment(p.audioTime(pkt.Pts()))
		}
		p.fail(at, fmt.Errorf("%w: audio decode: %w", ErrSource, err))
		return nil
	}
	for {
		d.frame.Unref()
		if err := d.cc.ReceiveFrame(d.frame); err != nil {
			if isAgainOrEOF(err) {
				return nil
			}
			p.fail(p.next, fmt.Errorf("%w: audio decode: %w", ErrSource, err))
			return nil
		}
		if d.frame.Pts() == astiav.NoPtsValue {
			continue
		}
		s := p.audioTime(d.frame.Pts())
		n := int64(d.frame.NbSamples()) * audioRate / int64(max(d.frame.SampleRate(), 1))
		if s+n <= p.aBase {
			continue // wholly before this run's first segment
		}
		d.frame.SetPts(astiav.RescaleQ(s, audioTB, d.st.TimeBase()))
		if err := p.filterAudio(d.frame); err != nil {
			return err
		}
	}
}

// filterAudio resamples to 48 kHz stereo through a filter graph (FFmpeg
// 5.1's go-astiav has no swresample binding), trims the start to this
// run's first sample (atrim on timestamps, sample-exact) and cuts
// AAC-sized frames.
func (p *pipeline) filterAudio(f *astiav.Frame) error {
	if p.agraph == nil {
		tb := p.adec.st.TimeBase()
		chain := fmt.Sprintf("aresample=%d,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=start_pts=%d,asetnsamples=n=%d:p=0",
			audioRate, p.aBase, audioFrame)
		g, err := media.NewAudioGraph(f, tb, chain)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrEncode, err)
		}
		p.agraph = g
	}
	if err := p.agraph.Push(f); err != nil {
		return fmt.Errorf("%w: %w", ErrEncode, err)
	}
	for {
		out, err := p.agraph.Pull()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrEncode, err)
		}
		if out == nil {
			return nil
		}
		// The encoder's clock is the sample count from this run's first
		// sample, on the grid every run shares.
		out.SetPts(p.aBase + p.aSent)
		p.aSent += int64(out.NbSamples())
		if err := p.encodeAudio(out); err != nil {
			return err
		}
	}
}

func (p *pipeline) encodeAudio(f *astiav.Frame) error {
	return encode(p.enc.audio, p.enc.pkt, f, "aac", func(pkt *astiav.Packet) error {
		// Packets follow each other without gaps from aBase; the
		// encoder's priming delay (1024 samples) is carried, not cut.
		dur := pkt.Duration()
		if dur <= 0 {
			dur = audioFrame
		}
		pts := p.aEnd
		k := p.audioSegment(pts)
		p.audio[k] = append(p.audio[k], audioSample{pts: pts, dur: dur, data: append([]byte(nil), pkt.Data()...)})
		p.aEnd = pts + dur
		return nil
	})
}

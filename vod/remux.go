package vod

import (
	"errors"
	"fmt"
	"os"

	"github.com/asticode/go-astiav"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// remuxName is the rendition that serves a browser-safe source's video
// (H.264 in avcC form) as it is: no encode, segments cut at the source's
// keyframes. Its audio is the alternate audio renditions (audio.go), as
// for every video rendition, so any audio codec goes.
const remuxName = "src"

// remuxInfo is what the remux rendition needs from the source, read at scan.
type remuxInfo struct {
	sps, pps []byte
	dtsShift int64 // 90 kHz added to decode times so the first is not negative (B-frame delay); presentation times keep the shared timeline through negative composition offsets
	starts   []int64
	bitrate  int
}

// parseAVCC reads the SPS and PPS of an AVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 §5.3.3.1); only 4-byte NAL lengths are accepted.
func parseAVCC(b []byte) (sps, pps []byte, ok bool) {
	if len(b) < 7 || b[0] != 1 || b[4]&3 != 3 {
		return nil, nil, false
	}
	p := 5
	for _, want := range []int{0, 1} {
		if p >= len(b) {
			return nil, nil, false
		}
		n := int(b[p])
		if want == 0 {
			n &= 0x1f
		}
		p++
		for i := 0; i < n; i++ {
			if p+2 > len(b) {
				return nil, nil, false
			}
			l := int(b[p])<<8 | int(b[p+1])
			p += 2
			if p+l > len(b) {
				return nil, nil, false
			}
			if want == 0 && sps == nil {
				sps = b[p : p+l]
			} else if want == 1 && pps == nil {
				pps = b[p : p+l]
			}
			p += l
		}
	}
	return sps, pps, sps != nil && pps != nil
}

// remuxCuts are the remux rendition's segment starts: the first keyframe
// at or after each multiple of D.
func remuxCuts(frames []int64, key []bool, segTicks int64) []int64 {
	var out []int64
	next := int64(0)
	for i, ts := range frames {
		if key[i] && ts >= next {
			out = append(out, ts)
			next = (ts/segTicks + 1) * segTicks
		}
	}
	return out
}

// remuxInit is the remux rendition's init segment.
func remuxInit(ri *remuxInfo) ([]byte, error) {
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: videoTrack, TimeScale: clock, Codec: &mp4codecs.H264{SPS: ri.sps, PPS: ri.pps}}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("%w: init segment: %w", ErrEncode, err)
	}
	return buf.Bytes(), nil
}

type remuxSample struct {
	dts, pts, dur int64
	key           bool
	data          []byte
}

// remuxer copies the source's packets into segments, one after another
// from segment `next`.
type remuxer struct {
	tl      *Timeline // the remux view: Starts are keyframe cuts
	in      *input
	pkt     *astiav.Packet
	next    int
	cur     int // segment the video packets read now belong to
	video   map[int][]remuxSample
	eof     bool
	started bool
}

func newRemuxer(f *os.File, tl *Timeline, k int) (*remuxer, error) {
	in, err := openInput(f)
	if err != nil {
		return nil, err
	}
	m := &remuxer{tl: tl, in: in, pkt: astiav.AllocPacket(), next: k, cur: k, video: map[int][]remuxSample{}}
	if k > 0 {
		ts := astiav.RescaleQ(tl.Starts[k]+tl.T0, astiav.NewRational(1, clock), astiav.TimeBaseQ)
		if err := in.fc.SeekFrame(-1, ts, astiav.NewSeekFlags(astiav.SeekFlagBackward)); err != nil {
			m.close()
			return nil, fmt.Errorf("%w: seek to segment %d: %w", ErrSource, k, err)
		}
	}
	return m, nil
}

func (m *remuxer) close() {
	m.pkt.Free()
	m.in.close()
}

func (m *remuxer) nextIndex() int { return m.next }

func (m *remuxer) nextSegment() (int, []byte, error) {
	k := m.next
	for !m.eof && m.cur <= k {
		if err := m.step(); err != nil {
			return k, nil, err
		}
	}
	m.next++
	v := m.video[k]
	delete(m.video, k)
	if len(v) == 0 || !v[0].key {
		return k, nil, fmt.Errorf("%w: segment %d has no keyframe in the source", errEmptySegment, k)
	}
	if nv := m.video[k+1]; len(nv) > 0 {
		v[len(v)-1].dur = nv[0].dts - v[len(v)-1].dts
	}
	vt := &fmp4.PartTrack{ID: videoTrack, BaseTime: uint64(v[0].dts)}
	for i, s := range v {
		if i+1 < len(v) {
			s.dur = v[i+1].dts - s.dts
		}
		vt.Samples = append(vt.Samples, &fmp4.Sample{Duration: uint32(max(s.dur, 1)), PTSOffset: int32(s.pts - s.dts), IsNonSyncSample: !s.key, Payload: s.data})
	}
	part := fmp4.Part{SequenceNumber: uint32(k + 1), Tracks: []*fmp4.PartTrack{vt}}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return k, nil, fmt.Errorf("%w: segment %d: %w", ErrEncode, k, err)
	}
	return k, buf.Bytes(), nil
}

func (m *remuxer) step() error {
	m.pkt.Unref()
	if err := m.in.fc.ReadFrame(m.pkt); err != nil {
		if !errors.Is(err, astiav.ErrEof) {
			return fmt.Errorf("%w: read: %w", ErrSource, err)
		}
		m.eof = true
		return nil
	}
	p := m.pkt
	ninety := astiav.NewRational(1, clock)
	if p.StreamIndex() != m.in.video.Index() || p.Pts() == astiav.NoPtsValue {
		return nil // audio is in the alternate audio renditions
	}
	pts := astiav.RescaleQ(p.Pts(), m.in.video.TimeBase(), ninety) - m.tl.T0
	dts := pts
	if p.Dts() != astiav.NoPtsValue {
		dts = astiav.RescaleQ(p.Dts(), m.in.video.TimeBase(), ninety) - m.tl.T0
	}
	key := p.Flags().Has(astiav.PacketFlagKey)
	// Decode order: a keyframe at a cut opens the next segment.
	if key {
		if s := m.tl.Segment(pts); s >= 0 && m.tl.Starts[s] == pts {
			m.cur = s
			m.started = true
		}
	}
	if !m.started {
		return nil // before the run's first keyframe
	}
	dur := astiav.RescaleQ(p.Duration(), m.in.video.TimeBase(), ninety)
	m.video[m.cur] = append(m.video[m.cur], remuxSample{dts: dts + m.tl.remux.dtsShift, pts: pts,
		dur: dur, key: key, data: append([]byte(nil), p.Data()...)})
	return nil
}

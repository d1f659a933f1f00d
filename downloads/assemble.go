package downloads

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
)

// Segments is one source's renditions in the VOD segment cache
// (vod.Export): init segments and numbered fragments, each encoded on
// demand by the rendition's owner goroutine.
type Segments interface {
	Init(ctx context.Context, rendition string) (*os.File, error)
	Segment(ctx context.Context, rendition string, k int) (*os.File, error)
}

// strand is one rendition an output file takes tracks from.
type strand struct {
	rendition string
	segments  int
	keep      func(video bool) bool // which of its tracks go into the file
}

// assembly maps the tracks of the strands to the output's track IDs.
type assembly struct {
	strands []strand
	ids     []map[int]int // per strand: source track ID → output ID
}

// assemble writes one fragmented MP4 to w: an init segment with the kept
// tracks of every strand (renumbered), then, for k = 0, 1, …, fragment k
// of each strand in turn with its kept tracks. When vod muxes audio into
// the video segments there is one strand; when audio is a separate
// alternate rendition, the file interleaves the two every segment. It
// reads everything through mediacommon's fmp4 and writes nothing by hand.
// step is called after each segment read.
func assemble(ctx context.Context, src Segments, strands []strand, w io.Writer, step func()) error {
	a := &assembly{strands: strands}
	if err := a.writeInit(ctx, src, w); err != nil {
		return err
	}
	step()
	total := 0
	for _, s := range strands {
		total = max(total, s.segments)
	}
	seq := uint32(1)
	for k := 0; k < total; k++ {
		for i, s := range strands {
			if k >= s.segments {
				continue
			}
			parts, err := readParts(ctx, src, s.rendition, k)
			if err != nil {
				return err
			}
			for _, p := range parts {
				if n := a.keep(i, p); n > 0 {
					p.SequenceNumber = seq
					seq++
					if err := marshal(p.Marshal, w); err != nil {
						return err
					}
				}
			}
			step()
		}
	}
	return nil
}

// writeInit reads each strand's init segment and writes the merged one.
func (a *assembly) writeInit(ctx context.Context, src Segments, w io.Writer) error {
	var out fmp4.Init
	for _, s := range a.strands {
		f, err := src.Init(ctx, s.rendition)
		if err != nil {
			return fmt.Errorf("init segment of %s: %w", s.rendition, err)
		}
		var in fmp4.Init
		err = in.Unmarshal(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("init segment of %s: %w", s.rendition, err)
		}
		ids := map[int]int{}
		for _, t := range in.Tracks {
			if !s.keep(t.Codec.IsVideo()) {
				continue
			}
			c := *t
			c.ID = len(out.Tracks) + 1
			ids[t.ID] = c.ID
			out.Tracks = append(out.Tracks, &c)
		}
		a.ids = append(a.ids, ids)
	}
	if len(out.Tracks) == 0 {
		return fmt.Errorf("%w: the source has none of the streams this profile needs", ErrNoStreams)
	}
	return marshal(out.Marshal, w)
}

// keep drops the tracks of p the file does not take and renumbers the
// rest; it returns how many are left.
func (a *assembly) keep(strand int, p *fmp4.Part) int {
	kept := p.Tracks[:0]
	for _, t := range p.Tracks {
		if id, ok := a.ids[strand][t.ID]; ok {
			t.ID = id
			kept = append(kept, t)
		}
	}
	p.Tracks = kept
	return len(kept)
}

func readParts(ctx context.Context, src Segments, rendition string, k int) (fmp4.Parts, error) {
	f, err := src.Segment(ctx, rendition, k)
	if err != nil {
		return nil, fmt.Errorf("segment %d of %s: %w", k, rendition, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("segment %d of %s: %w", k, rendition, err)
	}
	var ps fmp4.Parts
	if err := ps.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("segment %d of %s: %w", k, rendition, err)
	}
	return ps, nil
}

// marshal runs a mediacommon Marshal into memory (it seeks back to fill in
// sizes) and copies the bytes to w.
func marshal(m func(io.WriteSeeker) error, w io.Writer) error {
	var buf seekablebuffer.Buffer
	if err := m(&buf); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

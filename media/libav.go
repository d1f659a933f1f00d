package media

import (
	"fmt"
	"strconv"

	"github.com/asticode/go-astiav"
)

// FilterGraph is a libav filter graph (buffer source → chain → sink) for
// other packages' pipelines, such as vod's segment encoder. FFmpeg 5.1's
// go-astiav has no swresample binding: resample through an audio graph.
type FilterGraph struct{ g *filterGraph }

// NewVideoGraph builds a graph taking frames shaped like f (time base tb)
// through chain, e.g. ScaleChain's.
func NewVideoGraph(f *astiav.Frame, tb astiav.Rational, chain string) (*FilterGraph, error) {
	sar := f.SampleAspectRatio()
	if sar.Num() <= 0 {
		sar = astiav.NewRational(1, 1)
	}
	args := astiav.FilterArgs{
		"video_size":   fmt.Sprintf("%dx%d", f.Width(), f.Height()),
		"pix_fmt":      strconv.Itoa(int(f.PixelFormat())),
		"time_base":    tb.String(),
		"pixel_aspect": sar.String(),
	}
	g, err := newFilterGraph("buffer", args, chain, "buffersink")
	if err != nil {
		return nil, err
	}
	return &FilterGraph{g}, nil
}

// NewAudioGraph builds a graph taking audio frames shaped like f (time
// base tb) through chain.
func NewAudioGraph(f *astiav.Frame, tb astiav.Rational, chain string) (*FilterGraph, error) {
	g, err := newFilterGraph("abuffer", audioSrcArgs(f, tb), chain, "abuffersink")
	if err != nil {
		return nil, err
	}
	return &FilterGraph{g}, nil
}

// Push feeds one frame (kept by the caller), or nil at the end of input.
func (g *FilterGraph) Push(f *astiav.Frame) error { return g.g.push(f) }

// Pull returns the next output frame (valid until the next Pull), or nil
// when the graph needs more input.
func (g *FilterGraph) Pull() (*astiav.Frame, error) { return g.g.pull() }

// TimeBase is the time base of the output frames.
func (g *FilterGraph) TimeBase() astiav.Rational { return g.g.timeBase() }

// Free releases the graph.
func (g *FilterGraph) Free() { g.g.free() }

// ScaleChain is the chain that turns a picture upright (rotation in
// clockwise degrees), scales it to w×h and converts it to 8-bit 4:2:0.
func ScaleChain(w, h, rotation int) string { return scaleChain(w, h, rotation) }

// StreamRotation is the clockwise rotation a stream's display matrix asks for.
func StreamRotation(st *astiav.Stream) int { return streamRotation(st) }

package media

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/asticode/go-astiav"
)

// filterGraph is one buffer source → filter chain → buffer sink.
type filterGraph struct {
	graph *astiav.FilterGraph
	src   *astiav.FilterContext
	sink  *astiav.FilterContext
	out   *astiav.Frame
}

// newFilterGraph builds srcName(srcArgs) → chain → sinkName.
func newFilterGraph(srcName string, srcArgs astiav.FilterArgs, chain, sinkName string) (*filterGraph, error) {
	g := &filterGraph{graph: astiav.AllocFilterGraph(), out: astiav.AllocFrame()}
	g.graph.SetThreadCount(1)
	fail := func(what string, err error) (*filterGraph, error) {
		g.free()
		return nil, fmt.Errorf("%w: filter graph %q: %s: %w", ErrEncode, chain, what, err)
	}
	var err error
	if g.src, err = g.graph.NewFilterContext(astiav.FindFilterByName(srcName), "in", srcArgs); err != nil {
		return fail("source", err)
	}
	if g.sink, err = g.graph.NewFilterContext(astiav.FindFilterByName(sinkName), "out", nil); err != nil {
		return fail("sink", err)
	}
	// In avfilter_graph_parse_ptr terms, "outputs" are the open outputs of
	// what already exists (our source) and "inputs" the open inputs (sink).
	outputs, inputs := astiav.AllocFilterInOut(), astiav.AllocFilterInOut()
	defer outputs.Free()
	defer inputs.Free()
	outputs.SetName("in")
	outputs.SetFilterContext(g.src)
	outputs.SetPadIdx(0)
	outputs.SetNext(nil)
	inputs.SetName("out")
	inputs.SetFilterContext(g.sink)
	inputs.SetPadIdx(0)
	inputs.SetNext(nil)
	if err := g.graph.Parse(chain, inputs, outputs); err != nil {
		return fail("parse", err)
	}
	if err := g.graph.Configure(); err != nil {
		return fail("configure", err)
	}
	return g, nil
}

// push feeds one frame (kept by the caller) or nil to flush.
func (g *filterGraph) push(f *astiav.Frame) error {
	if err := g.src.BuffersrcAddFrame(f, astiav.NewBuffersrcFlags(astiav.BuffersrcFlagKeepRef)); err != nil {
		return fmt.Errorf("%w: filter input: %w", ErrEncode, err)
	}
	return nil
}

// pull returns the next filtered frame (valid until the next pull), or nil
// when the graph needs more input.
func (g *filterGraph) pull() (*astiav.Frame, error) {
	g.out.Unref()
	if err := g.sink.BuffersinkGetFrame(g.out, astiav.NewBuffersinkFlags()); err != nil {
		if isAgainOrEOF(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: filter output: %w", ErrEncode, err)
	}
	return g.out, nil
}

// timeBase is the time base of frames out of the sink.
func (g *filterGraph) timeBase() astiav.Rational {
	return g.sink.Inputs()[0].TimeBase()
}

func (g *filterGraph) free() {
	if g.out != nil {
		g.out.Free()
	}
	if g.graph != nil {
		g.graph.Free()
	}
}

// scaleChain turns the picture upright (rotation: clockwise degrees) and
// scales it to w×h 8-bit 4:2:0, the only format WebRTC decoders take;
// 10-bit and 4:2:2 sources are converted here.
func scaleChain(w, h, rotation int) string {
	turn := map[int]string{90: "transpose=clock,", 180: "hflip,vflip,", 270: "transpose=cclock,"}[rotation]
	return fmt.Sprintf("%sscale=w=%d:h=%d:flags=bilinear,setsar=1,format=pix_fmts=yuv420p", turn, w, h)
}

// audioSrcArgs describes decoded audio to an "abuffer" source.
func audioSrcArgs(f *astiav.Frame, tb astiav.Rational) astiav.FilterArgs {
	return astiav.FilterArgs{
		"sample_rate":    strconv.Itoa(f.SampleRate()),
		"sample_fmt":     f.SampleFormat().Name(),
		"channel_layout": layoutName(f.ChannelLayout()),
		"time_base":      tb.String(),
	}
}

// layoutName names a channel layout for abuffer, falling back to the
// default layout for the channel count when the order is unspecified.
func layoutName(l astiav.ChannelLayout) string {
	s := l.String()
	if l.Valid() && s != "" && !containsDigitThenChannels(s) {
		return s
	}
	switch l.NbChannels() {
	case 1:
		return "mono"
	case 2:
		return "stereo"
	case 3:
		return "2.1"
	case 4:
		return "quad"
	case 5:
		return "5.0"
	case 6:
		return "5.1"
	case 7:
		return "6.1"
	case 8:
		return "7.1"
	}
	return "stereo"
}

// containsDigitThenChannels matches "N channels", libavutil's name for an
// unspecified order, which abuffer cannot parse back in FFmpeg 5.1.
func containsDigitThenChannels(s string) bool {
	var n int
	var word string
	c, _ := fmt.Sscanf(s, "%d %s", &n, &word)
	return c == 2 && word == "channels"
}

// opusChain resamples to 48 kHz, downmixes to stereo and cuts 20 ms frames
// (RFC 7587 §4.2 recommends 20 ms; Opus runs at 48 kHz internally).
const opusChain = "aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo,asetnsamples=n=960:p=1"

func isAgainOrEOF(err error) bool {
	return errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof)
}

package media

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/asticode/go-astiav"
)

// encoded is one encoded frame before it is timed on the timeline.
type encoded struct {
	layer int // video layer index; -1 for audio
	data  []byte
	key   bool
	pos   time.Duration
	dur   time.Duration
	start time.Time // when encoding of the source frame began
}

// videoClock is the encoders' time base: RTP's 90 kHz video clock (RFC 3551 §5).
var videoClock = astiav.NewRational(1, 90000)

// layerEncoder scales decoded frames to one layer and encodes them.
type layerEncoder struct {
	layer    Layer
	rotation int
	cfg      Config
	fps      astiav.Rational
	graph    *filterGraph
	graphKey string // source geometry the graph was built for
	enc      *astiav.CodecContext
	pkt      *astiav.Packet
}

func newLayerEncoder(l Layer, rotation int, cfg Config, fps astiav.Rational) (*layerEncoder, error) {
	e := &layerEncoder{layer: l, rotation: rotation, cfg: cfg, fps: fps, pkt: astiav.AllocPacket()}
	name := "libvpx"
	if cfg.VideoCodec == CodecH264 {
		name = "libx264"
	}
	codec := astiav.FindEncoderByName(name)
	if codec == nil {
		e.free()
		return nil, fmt.Errorf("%w: encoder %s not available", ErrEncode, name)
	}
	e.enc = astiav.AllocCodecContext(codec)
	e.enc.SetWidth(l.Width)
	e.enc.SetHeight(l.Height)
	e.enc.SetPixelFormat(astiav.PixelFormatYuv420P)
	e.enc.SetTimeBase(videoClock)
	if fps.Num() > 0 && fps.Den() > 0 {
		e.enc.SetFramerate(fps)
	}
	e.enc.SetBitRate(int64(l.Bitrate))
	e.enc.SetThreadCount(1)
	gop := 30 * int(cfg.KeyframeInterval/time.Second)
	if fps.Num() > 0 && fps.Den() > 0 {
		gop = int(fps.Float64() * cfg.KeyframeInterval.Seconds())
	}
	e.enc.SetGopSize(max(gop, 1))
	opts := astiav.NewDictionary()
	defer opts.Free()
	br := strconv.Itoa(l.Bitrate)
	_ = opts.Set("maxrate", br, 0)
	_ = opts.Set("bufsize", br, 0) // one second of rate-control buffer
	if cfg.VideoCodec == CodecH264 {
		_ = opts.Set("preset", "ultrafast", 0)
		_ = opts.Set("tune", "zerolatency", 0)
		// Constrained baseline (42e01f) is what every browser decodes.
		_ = opts.Set("profile", "baseline", 0)
		_ = opts.Set("forced-idr", "1", 0)
	} else {
		_ = opts.Set("minrate", br, 0) // minrate = maxrate: CBR
		_ = opts.Set("deadline", "realtime", 0)
		_ = opts.Set("cpu-used", strconv.Itoa(cfg.CPUUsed), 0)
		_ = opts.Set("lag-in-frames", "0", 0)
		// As WebRTC's own VP8 encoder: no error-resilient mode without
		// temporal layers (the SFU retransmits), keyframes capped at 9x a
		// frame's budget so they do not burst, tight rate control.
		_ = opts.Set("max-intra-rate", "900", 0)
		_ = opts.Set("undershoot-pct", "100", 0)
		_ = opts.Set("overshoot-pct", "15", 0)
	}
	if err := e.enc.Open(codec, opts); err != nil {
		e.free()
		return nil, fmt.Errorf("%w: opening %s %dx%d: %w", ErrEncode, name, l.Width, l.Height, err)
	}
	return e, nil
}

// encode scales f, encodes it at encPts (90 kHz, monotonic), as a
// keyframe when forceKey, and returns the packets.
func (e *layerEncoder) encode(idx int, f *astiav.Frame, tb astiav.Rational, pos time.Duration, encPts int64, forceKey bool) ([]encoded, error) {
	key := fmt.Sprintf("%dx%d/%d/%s", f.Width(), f.Height(), f.PixelFormat(), f.SampleAspectRatio())
	if e.graph == nil || key != e.graphKey {
		if e.graph != nil {
			e.graph.free()
			e.graph = nil
		}
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
		g, err := newFilterGraph("buffer", args, scaleChain(e.layer.Width, e.layer.Height, e.rotation), "buffersink")
		if err != nil {
			return nil, err
		}
		e.graph, e.graphKey = g, key
		forceKey = true
	}
	if err := e.graph.push(f); err != nil {
		return nil, err
	}
	var out []encoded
	for {
		sf, err := e.graph.pull()
		if err != nil {
			return out, err
		}
		if sf == nil {
			return out, nil
		}
		// Decoded frames carry the source's picture type; left set, every
		// source I-frame would become a keyframe here (and x264 honours B).
		sf.SetPictureType(astiav.PictureTypeNone)
		if forceKey {
			sf.SetPictureType(astiav.PictureTypeI)
			forceKey = false
		}
		sf.SetPts(encPts)
		if err := e.enc.SendFrame(sf); err != nil {
			return out, fmt.Errorf("%w: layer %s: %w", ErrEncode, e.layer.RID, err)
		}
		for {
			e.pkt.Unref()
			if err := e.enc.ReceivePacket(e.pkt); err != nil {
				if isAgainOrEOF(err) {
					break
				}
				return out, fmt.Errorf("%w: layer %s: %w", ErrEncode, e.layer.RID, err)
			}
			out = append(out, encoded{layer: idx, data: append([]byte(nil), e.pkt.Data()...),
				key: e.pkt.Flags().Has(astiav.PacketFlagKey), pos: pos})
		}
	}
}

func (e *layerEncoder) free() {
	if e.graph != nil {
		e.graph.free()
	}
	if e.enc != nil {
		e.enc.Free()
	}
	if e.pkt != nil {
		e.pkt.Free()
	}
}

// videoEncoder encodes every layer of a frame in parallel, one goroutine
// and one libvpx/x264 thread per layer.
type videoEncoder struct {
	layers []*layerEncoder
	force  []bool // keyframe wanted, per layer
}

func newVideoEncoder(layers []Layer, rotation int, cfg Config, fps astiav.Rational) (*videoEncoder, error) {
	v := &videoEncoder{force: make([]bool, len(layers))}
	for _, l := range layers {
		e, err := newLayerEncoder(l, rotation, cfg, fps)
		if err != nil {
			v.free()
			return nil, err
		}
		v.layers = append(v.layers, e)
	}
	return v, nil
}

// forceKeyframe makes the next frame of layer i (all layers when i < 0) a keyframe.
func (v *videoEncoder) forceKeyframe(i int) {
	for j := range v.force {
		if i < 0 || i == j {
			v.force[j] = true
		}
	}
}

func (v *videoEncoder) encode(f *astiav.Frame, tb astiav.Rational, pos time.Duration, encPts int64) ([]encoded, error) {
	results := make([][]encoded, len(v.layers))
	errs := make([]error, len(v.layers))
	var wg sync.WaitGroup
	for i, l := range v.layers {
		force := v.force[i]
		v.force[i] = false
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = l.encode(i, f, tb, pos, encPts, force)
		}()
	}
	wg.Wait()
	var out []encoded
	for i := range v.layers {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	return out, nil
}

func (v *videoEncoder) free() {
	for _, l := range v.layers {
		l.free()
	}
}

// audioEncoder resamples and downmixes decoded audio and encodes Opus.
type audioEncoder struct {
	graph    *filterGraph
	graphKey string
	enc      *astiav.CodecContext
	pkt      *astiav.Packet
	pending  []time.Duration // positions of frames sent, awaiting packets
	samples  int64
}

// opusFrame is the Opus frame duration (RFC 7587 §4.2).
const opusFrame = 20 * time.Millisecond

// opusExpectedLoss is the packet loss (percent) the Opus encoder plans
// its in-band FEC for (RFC 6716 §2.1.7, libopus OPUS_SET_PACKET_LOSS_PERC).
// With FEC on and this loss, libopus codes a SILK layer (hybrid mode at
// full band) whose LBRR data repeats each frame in the next packet, so a
// viewer rebuilds a lost frame from the following one: the SDP's
// useinbandfec=1 (RFC 7587 §6.1) then has something to use.
const opusExpectedLoss = "10"

func newAudioEncoder(bitrate int) (*audioEncoder, error) {
	a := &audioEncoder{pkt: astiav.AllocPacket()}
	codec := astiav.FindEncoderByName("libopus")
	if codec == nil {
		a.free()
		return nil, fmt.Errorf("%w: libopus not available", ErrEncode)
	}
	a.enc = astiav.AllocCodecContext(codec)
	a.enc.SetSampleRate(48000)
	a.enc.SetChannelLayout(astiav.ChannelLayoutStereo)
	a.enc.SetSampleFormat(astiav.SampleFormatS16)
	a.enc.SetTimeBase(astiav.NewRational(1, 48000))
	a.enc.SetBitRate(int64(bitrate))
	opts := astiav.NewDictionary()
	defer opts.Free()
	_ = opts.Set("application", "audio", 0)
	_ = opts.Set("frame_duration", "20", 0)
	_ = opts.Set("fec", "1", 0)
	_ = opts.Set("packet_loss", opusExpectedLoss, 0)
	if err := a.enc.Open(codec, opts); err != nil {
		a.free()
		return nil, fmt.Errorf("%w: opening libopus: %w", ErrEncode, err)
	}
	return a, nil
}

// encode filters f (nil resets nothing) and returns Opus packets with the
// media position of their first sample; position maps a filtered pts.
func (a *audioEncoder) encode(f *astiav.Frame, tb astiav.Rational, position func(int64, astiav.Rational) time.Duration) ([]encoded, error) {
	key := fmt.Sprintf("%d/%s/%s/%s", f.SampleRate(), f.SampleFormat().Name(), layoutName(f.ChannelLayout()), tb)
	if a.graph == nil || key != a.graphKey {
		a.resetGraph()
		g, err := newFilterGraph("abuffer", audioSrcArgs(f, tb), opusChain, "abuffersink")
		if err != nil {
			return nil, err
		}
		a.graph, a.graphKey = g, key
	}
	if err := a.graph.push(f); err != nil {
		return nil, err
	}
	var out []encoded
	for {
		sf, err := a.graph.pull()
		if err != nil || sf == nil {
			return out, err
		}
		a.pending = append(a.pending, position(sf.Pts(), a.graph.timeBase()))
		sf.SetPts(a.samples)
		a.samples += int64(sf.NbSamples())
		if err := a.enc.SendFrame(sf); err != nil {
			return out, fmt.Errorf("%w: opus: %w", ErrEncode, err)
		}
		for {
			a.pkt.Unref()
			if err := a.enc.ReceivePacket(a.pkt); err != nil {
				if isAgainOrEOF(err) {
					break
				}
				return out, fmt.Errorf("%w: opus: %w", ErrEncode, err)
			}
			pos := time.Duration(0)
			if len(a.pending) > 0 {
				pos, a.pending = a.pending[0], a.pending[1:]
			}
			out = append(out, encoded{layer: -1, data: append([]byte(nil), a.pkt.Data()...), key: true, pos: pos, dur: opusFrame})
		}
	}
}

// resetGraph drops buffered samples (on seek); the encoder keeps running so
// its packet stream stays continuous.
func (a *audioEncoder) resetGraph() {
	if a.graph != nil {
		a.graph.free()
		a.graph = nil
	}
	a.pending = a.pending[:0]
}

func (a *audioEncoder) free() {
	a.resetGraph()
	if a.enc != nil {
		a.enc.Free()
	}
	if a.pkt != nil {
		a.pkt.Free()
	}
}

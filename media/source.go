package media

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/asticode/go-astiav"
)

// source demuxes one input and decodes its chosen audio and video streams.
// It is used by one goroutine only.
type source struct {
	fc          *astiav.FormatContext
	interrupter astiav.IOInterrupter
	stopWatch   func() bool
	startTime   time.Duration // container start, subtracted from every pts
	duration    time.Duration
	video       *decoder // nil when the source has no video
	rotation    int      // clockwise degrees the video must turn for display: 0, 90, 180, 270
	audio       *decoder // nil when the source has no audio
	pkt         *astiav.Packet
}

// decoder is one stream's decoder; it is re-created on seek because
// go-astiav 0.16 has no avcodec_flush_buffers.
type decoder struct {
	stream *astiav.Stream
	cc     *astiav.CodecContext
	frame  *astiav.Frame
	errRun int // consecutive decode errors
}

// maxDecodeErrors in a row fail the source (corrupt media).
const maxDecodeErrors = 50

// openSource opens url (a local path or an http(s) URL). The open and every
// later read are bounded by ioTimeout and interrupted when ctx ends.
func openSource(ctx context.Context, url string, cfg Config) (*source, error) {
	s := &source{fc: astiav.AllocFormatContext(), pkt: astiav.AllocPacket()}
	if s.fc == nil || s.pkt == nil {
		s.close()
		return nil, fmt.Errorf("%w: out of memory", ErrOpen)
	}
	s.interrupter = s.fc.SetInterruptCallback()
	s.stopWatch = context.AfterFunc(ctx, s.interrupter.Interrupt)
	opts := astiav.NewDictionary()
	defer opts.Free()
	us := strconv.FormatInt(cfg.IOTimeout.Microseconds(), 10)
	if isURL(url) {
		// rw_timeout bounds each network read (libavformat/avio.c), timeout
		// the connect; a dropped connection errors instead of hanging.
		_ = opts.Set("rw_timeout", us, 0)
		_ = opts.Set("timeout", us, 0)
		_ = opts.Set("reconnect", "0", 0)
		_ = opts.Set("user_agent", "Marquee-ingest", 0)
		// An HLS or DASH playlist must not point FFmpeg at local files.
		_ = opts.Set("protocol_whitelist", "http,https,tcp,tls,crypto", 0)
	} else {
		_ = opts.Set("protocol_whitelist", "file", 0)
	}
	if err := s.fc.OpenInput(url, nil, opts); err != nil {
		// OpenInput frees the context on failure.
		s.fc = nil
		s.close()
		return nil, fmt.Errorf("%w: %s: %w", ErrOpen, redact(url), err)
	}
	if err := s.fc.FindStreamInfo(nil); err != nil {
		s.close()
		return nil, fmt.Errorf("%w: probing %s: %w", ErrOpen, redact(url), err)
	}
	if st := s.fc.StartTime(); st != astiav.NoPtsValue && st > 0 {
		s.startTime = time.Duration(st) * time.Microsecond
	}
	if d := s.fc.Duration(); d != astiav.NoPtsValue && d > 0 {
		s.duration = time.Duration(d) * time.Microsecond
	}
	if err := s.pickStreams(cfg.PreferredLanguage); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// pickStreams chooses the first decodable video stream (skipping attached
// cover pictures) and the preferred-language or first audio stream.
func (s *source) pickStreams(lang string) error {
	var videos, audios []*astiav.Stream
	var unsupported []string
	for _, st := range s.fc.Streams() {
		cp := st.CodecParameters()
		switch cp.MediaType() {
		case astiav.MediaTypeVideo, astiav.MediaTypeAudio:
		default:
			continue
		}
		if astiav.FindDecoder(cp.CodecID()) == nil || cp.CodecID() == astiav.CodecIDNone {
			unsupported = append(unsupported, fmt.Sprintf("stream %d (%s)", st.Index(), cp.CodecID()))
			continue
		}
		if cp.MediaType() == astiav.MediaTypeVideo {
			if (cp.CodecID() == astiav.CodecIDMjpeg || cp.CodecID() == astiav.CodecIDPng) && st.NbFrames() <= 1 {
				continue // cover art of a music file (an attached picture)
			}
			videos = append(videos, st)
		} else {
			audios = append(audios, st)
		}
	}
	if len(videos) == 0 && len(audios) == 0 {
		if len(unsupported) > 0 {
			return fmt.Errorf("%w: %s", ErrUnsupportedCodec, strings.Join(unsupported, ", "))
		}
		return ErrNoStreams
	}
	var err error
	if len(videos) > 0 {
		if s.video, err = newDecoder(videos[0]); err != nil {
			return err
		}
		s.rotation = streamRotation(videos[0])
	}
	if len(audios) > 0 {
		if s.audio, err = newDecoder(pickAudio(audios, lang)); err != nil {
			return err
		}
	}
	return nil
}

func newDecoder(st *astiav.Stream) (*decoder, error) {
	codec := astiav.FindDecoder(st.CodecParameters().CodecID())
	if codec == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedCodec, st.CodecParameters().CodecID())
	}
	d := &decoder{stream: st, cc: astiav.AllocCodecContext(codec), frame: astiav.AllocFrame()}
	if err := st.CodecParameters().ToCodecContext(d.cc); err != nil {
		d.free()
		return nil, fmt.Errorf("%w: %s parameters: %w", ErrUnsupportedCodec, codec.Name(), err)
	}
	d.cc.SetTimeBase(st.TimeBase())
	if st.CodecParameters().MediaType() == astiav.MediaTypeVideo {
		// Two frame threads: decoding forward to a seek target (up to a
		// GOP of frames) is what bounds seek time, and most files have one
		// slice per frame, so slice threads alone would not help. The cost
		// is one frame of decoder delay, well inside the lookahead.
		d.cc.SetThreadCount(2)
		d.cc.SetThreadType(astiav.ThreadTypeFrame | astiav.ThreadTypeSlice)
	}
	if err := d.cc.Open(codec, nil); err != nil {
		d.free()
		return nil, fmt.Errorf("%w: opening %s decoder: %w", ErrUnsupportedCodec, codec.Name(), err)
	}
	return d, nil
}

func (d *decoder) free() {
	if d == nil {
		return
	}
	if d.cc != nil {
		d.cc.Free()
	}
	if d.frame != nil {
		d.frame.Free()
	}
}

// reset re-creates the decoder, dropping its internal state (used on seek).
func (d *decoder) reset() error {
	n, err := newDecoder(d.stream)
	if err != nil {
		return err
	}
	d.free()
	*d = *n
	return nil
}

// position converts a pts in the stream time base to a media position.
func (s *source) position(st *astiav.Stream, pts int64) time.Duration {
	return tsToDuration(pts, st.TimeBase()) - s.startTime
}

func tsToDuration(ts int64, tb astiav.Rational) time.Duration {
	return time.Duration(float64(ts) * float64(tb.Num()) / float64(tb.Den()) * float64(time.Second))
}

func durationToTS(d time.Duration, tb astiav.Rational) int64 {
	return int64(d.Seconds()*float64(tb.Den())/float64(tb.Num()) + 0.5)
}

// read returns the next packet of a chosen stream, io.EOF-like
// astiav.ErrEof at the end, or an ErrRead error.
func (s *source) read() (*astiav.Packet, *decoder, error) {
	for {
		s.pkt.Unref()
		if err := s.fc.ReadFrame(s.pkt); err != nil {
			if errors.Is(err, astiav.ErrEof) {
				return nil, nil, astiav.ErrEof
			}
			return nil, nil, fmt.Errorf("%w: %w", ErrRead, err)
		}
		switch {
		case s.video != nil && s.pkt.StreamIndex() == s.video.stream.Index():
			return s.pkt, s.video, nil
		case s.audio != nil && s.pkt.StreamIndex() == s.audio.stream.Index():
			return s.pkt, s.audio, nil
		}
	}
}

// seek moves to the keyframe at or before pos and re-creates the decoders.
func (s *source) seek(pos time.Duration) error {
	ts := durationToTS(pos+s.startTime, astiav.TimeBaseQ)
	if err := s.fc.SeekFrame(-1, ts, astiav.NewSeekFlags(astiav.SeekFlagBackward)); err != nil {
		return fmt.Errorf("%w: seek to %v: %w", ErrRead, pos, err)
	}
	for _, d := range []*decoder{s.video, s.audio} {
		if d != nil {
			if err := d.reset(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *source) close() {
	if s.stopWatch != nil {
		s.stopWatch()
	}
	s.video.free()
	s.audio.free()
	if s.pkt != nil {
		s.pkt.Free()
	}
	if s.fc != nil {
		s.fc.CloseInput()
		s.fc.Free()
	}
}

func isURL(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
}

// redact drops a URL's query string, which may carry an API key.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 && isURL(u) {
		return u[:i] + "?…"
	}
	return u
}

// pickAudio returns the first audio stream tagged with lang, else the first.
func pickAudio(audios []*astiav.Stream, lang string) *astiav.Stream {
	for _, a := range audios {
		if l := language(a); lang != "" && strings.EqualFold(l, lang) {
			return a
		}
	}
	return audios[0]
}

// language is a stream's language tag (ISO 639-2), or "".
func language(st *astiav.Stream) string {
	if md := st.Metadata(); md != nil {
		if e := md.Get("language", nil, 0); e != nil {
			return e.Value()
		}
	}
	return ""
}

// streamRotation reads the stream's display matrix (phones record portrait
// video as rotated landscape) as FFmpeg's CLI does for autorotate.
func streamRotation(st *astiav.Stream) int {
	b := st.SideData(astiav.PacketSideDataTypeDisplaymatrix)
	if len(b) < 36 {
		return 0
	}
	m, err := astiav.NewDisplayMatrixFromBytes(b)
	if err != nil {
		return 0
	}
	theta := m.Rotation() // clockwise
	theta -= 360 * math.Floor(theta/360+0.9/360)
	for _, r := range []int{90, 180, 270} {
		if math.Abs(theta-float64(r)) < 1 {
			return r
		}
	}
	return 0
}

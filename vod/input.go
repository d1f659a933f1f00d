package vod

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/asticode/go-astiav"
	"github.com/marquee-party/marquee/media"
)

// Errors, matched with errors.Is; the HTTP layer maps them to statuses.
var (
	ErrUnsupported = errors.New("vod: source cannot be streamed")
	ErrSource      = errors.New("vod: source unreadable")
	ErrEncode      = errors.New("vod: encoding failed")
	ErrNotFound    = errors.New("vod: no such segment")
	ErrBusy        = errors.New("vod: encoder busy, retry shortly")
)

// input is an opened source: its demuxer and chosen streams.
type input struct {
	fc       *astiav.FormatContext
	video    *astiav.Stream
	audio    *astiav.Stream
	rotation int
}

// openInput opens f, a file already opened through library.Root (so under
// the library root after symlinks), by its descriptor: libav never
// resolves the path again.
func openInput(f *os.File) (*input, error) {
	in := &input{fc: astiav.AllocFormatContext()}
	opts := astiav.NewDictionary()
	defer opts.Free()
	_ = opts.Set("protocol_whitelist", "file", 0)
	if err := in.fc.OpenInput("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), nil, opts); err != nil {
		in.fc = nil
		return nil, fmt.Errorf("%w: open: %w", ErrSource, err)
	}
	if err := in.fc.FindStreamInfo(nil); err != nil {
		in.close()
		return nil, fmt.Errorf("%w: probe: %w", ErrSource, err)
	}
	for _, st := range in.fc.Streams() {
		cp := st.CodecParameters()
		if astiav.FindDecoder(cp.CodecID()) == nil {
			continue
		}
		switch cp.MediaType() {
		case astiav.MediaTypeVideo:
			attached := (cp.CodecID() == astiav.CodecIDMjpeg || cp.CodecID() == astiav.CodecIDPng) && st.NbFrames() <= 1
			if in.video == nil && !attached {
				in.video = st
				in.rotation = media.StreamRotation(st)
			}
		case astiav.MediaTypeAudio:
			if in.audio == nil {
				in.audio = st
			}
		}
	}
	return in, nil
}

func (in *input) close() {
	if in.fc != nil {
		in.fc.CloseInput()
		in.fc.Free()
	}
}

// decoder is one stream's decoder; re-created on every seek.
type decoder struct {
	st    *astiav.Stream
	cc    *astiav.CodecContext
	frame *astiav.Frame
}

func newDecoder(st *astiav.Stream) (*decoder, error) {
	codec := astiav.FindDecoder(st.CodecParameters().CodecID())
	if codec == nil {
		return nil, fmt.Errorf("%w: no decoder for %s", ErrUnsupported, st.CodecParameters().CodecID())
	}
	d := &decoder{st: st, cc: astiav.AllocCodecContext(codec), frame: astiav.AllocFrame()}
	if err := st.CodecParameters().ToCodecContext(d.cc); err != nil {
		d.free()
		return nil, fmt.Errorf("%w: decoder parameters: %w", ErrSource, err)
	}
	d.cc.SetTimeBase(st.TimeBase())
	if st.CodecParameters().MediaType() == astiav.MediaTypeVideo {
		// Frame and slice threads: decoding the source is the largest
		// part of a transcoded segment's time (a viewer's cold start).
		d.cc.SetThreadCount(codecThreads())
		d.cc.SetThreadType(astiav.ThreadTypeFrame | astiav.ThreadTypeSlice)
	} else {
		d.cc.SetThreadCount(1)
	}
	if err := d.cc.Open(codec, nil); err != nil {
		d.free()
		return nil, fmt.Errorf("%w: opening %s decoder: %w", ErrSource, codec.Name(), err)
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

func isAgainOrEOF(err error) bool {
	return errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof)
}

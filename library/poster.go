package library

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // decode PNG cover art
	"os"
	"path/filepath"

	"github.com/asticode/go-astiav"
)

// ErrNoPoster means no picture could be found or made for an item.
var ErrNoPoster = errors.New("library: no poster")

// thumbWidth is the width of generated posters, in pixels.
const thumbWidth = 300

// maxGrabPackets bounds how far past the seek point a frame grab reads.
const maxGrabPackets = 2000

// folderPosterNames are looked up, in order, in an item's own folder.
var folderPosterNames = []string{"poster.jpg", "folder.jpg", "cover.jpg", "poster.png", "folder.png", "cover.png"}

// sidecarPoster returns the poster beside a media file: <name>-poster.jpg,
// then (when the folder belongs to this item alone) poster/folder/cover.jpg.
// Pictures that are links leading outside root are ignored.
func sidecarPoster(root Root, file string, ownFolder bool) string {
	dir, base := filepath.Dir(file), StripExt(filepath.Base(file))
	for _, ext := range []string{".jpg", ".png"} {
		if p := filepath.Join(dir, base+"-poster"+ext); root.isFile(p) {
			return p
		}
	}
	if ownFolder {
		return folderPoster(root, dir)
	}
	return ""
}

// folderPoster returns poster.jpg, folder.jpg or cover.jpg inside dir,
// ignoring links that lead outside root.
func folderPoster(root Root, dir string) string {
	for _, n := range folderPosterNames {
		if p := filepath.Join(dir, n); root.isFile(p) {
			return p
		}
	}
	return ""
}

// coverArt returns a music file's attached picture as JPEG.
// Demuxers queue attached pictures as the first packets of their stream
// (avformat_queue_attached_pictures), so reading packets finds it at once.
func coverArt(path string, stream int) ([]byte, error) {
	fc := astiav.AllocFormatContext()
	defer fc.Free()
	if err := fc.OpenInput(path, nil, nil); err != nil {
		return nil, fmt.Errorf("%w: open: %v", ErrNoPoster, err)
	}
	defer fc.CloseInput()
	if stream < 0 || stream >= fc.NbStreams() {
		return nil, fmt.Errorf("%w: no cover stream", ErrNoPoster)
	}
	codec := fc.Streams()[stream].CodecParameters().CodecID()
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	for range 64 {
		if err := fc.ReadFrame(pkt); err != nil {
			return nil, fmt.Errorf("%w: cover art: %v", ErrNoPoster, err)
		}
		if pkt.StreamIndex() != stream {
			pkt.Unref()
			continue
		}
		data := bytes.Clone(pkt.Data())
		pkt.Unref()
		if codec == astiav.CodecIDMjpeg && isJPEG(data) {
			return data, nil
		}
		out, err := pngToJPEG(data)
		if err != nil {
			return nil, fmt.Errorf("%w: cover art: %v", ErrNoPoster, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: cover art packet not found", ErrNoPoster)
}

// grabPoster decodes the frame at 10% of the runtime of a video stream,
// scales it to thumbWidth pixels wide and encodes it as JPEG (libav's
// mjpeg encoder).
func grabPoster(path string, stream int, durationMs int64) ([]byte, error) {
	frame, err := decodeFrameAt(path, stream, durationMs*1000/10)
	if err != nil {
		return nil, err
	}
	defer frame.Free()
	return encodeThumb(frame)
}

// decodeFrameAt returns the first frame at or after atUs (microseconds),
// or the last frame before the end of the stream.
func decodeFrameAt(path string, stream int, atUs int64) (*astiav.Frame, error) {
	fc := astiav.AllocFormatContext()
	defer fc.Free()
	if err := fc.OpenInput(path, nil, nil); err != nil {
		return nil, fmt.Errorf("%w: open: %v", ErrNoPoster, err)
	}
	defer fc.CloseInput()
	if err := fc.FindStreamInfo(nil); err != nil {
		return nil, fmt.Errorf("%w: stream info: %v", ErrNoPoster, err)
	}
	if stream < 0 || stream >= fc.NbStreams() {
		return nil, fmt.Errorf("%w: no video stream", ErrNoPoster)
	}
	st := fc.Streams()[stream]
	dec := astiav.FindDecoder(st.CodecParameters().CodecID())
	if dec == nil {
		return nil, fmt.Errorf("%w: no decoder for %s", ErrNoPoster, st.CodecParameters().CodecID())
	}
	cc := astiav.AllocCodecContext(dec)
	defer cc.Free()
	if err := st.CodecParameters().ToCodecContext(cc); err != nil {
		return nil, fmt.Errorf("%w: decoder params: %v", ErrNoPoster, err)
	}
	if err := cc.Open(dec, nil); err != nil {
		return nil, fmt.Errorf("%w: open decoder: %v", ErrNoPoster, err)
	}
	target := int64(0)
	if atUs > 0 {
		// Stream -1 seeks in AV_TIME_BASE units; a failed seek decodes from the start.
		_ = fc.SeekFrame(-1, atUs, astiav.NewSeekFlags(astiav.SeekFlagBackward))
		target = astiav.RescaleQ(atUs, astiav.NewRational(1, 1_000_000), st.TimeBase())
		if s := st.StartTime(); s > 0 {
			target += s
		}
	}
	pkt, frame, best := astiav.AllocPacket(), astiav.AllocFrame(), astiav.AllocFrame()
	defer pkt.Free()
	defer frame.Free()
	have := false
	take := func() (done bool, err error) {
		for {
			if err := cc.ReceiveFrame(frame); err != nil {
				if errors.Is(err, astiav.ErrEagain) || errors.Is(err, astiav.ErrEof) {
					return false, nil
				}
				return false, err
			}
			best.Unref()
			best.MoveRef(frame)
			have = true
			if best.Pts() >= target {
				return true, nil
			}
		}
	}
	for range maxGrabPackets {
		if err := fc.ReadFrame(pkt); err != nil {
			break
		}
		if pkt.StreamIndex() != stream {
			pkt.Unref()
			continue
		}
		err := cc.SendPacket(pkt)
		pkt.Unref()
		if err != nil && !errors.Is(err, astiav.ErrEagain) {
			continue // a damaged packet; try the next
		}
		if done, _ := take(); done {
			return best, nil
		}
	}
	_ = cc.SendPacket(nil) // drain
	_, _ = take()
	if !have {
		best.Free()
		return nil, fmt.Errorf("%w: no frame decoded", ErrNoPoster)
	}
	return best, nil
}

// encodeThumb scales a frame to thumbWidth (never upscaling) and encodes it
// as a JPEG with libav's mjpeg encoder.
func encodeThumb(src *astiav.Frame) ([]byte, error) {
	w := min(thumbWidth, src.Width())
	h := max(2, (src.Height()*w/max(src.Width(), 1))&^1)
	w &^= 1
	sws, err := astiav.CreateSoftwareScaleContext(src.Width(), src.Height(), src.PixelFormat(), w, h,
		astiav.PixelFormatYuvj420P, astiav.NewSoftwareScaleContextFlags(astiav.SoftwareScaleContextFlagBilinear))
	if err != nil {
		return nil, fmt.Errorf("%w: scaler: %v", ErrNoPoster, err)
	}
	defer sws.Free()
	dst := astiav.AllocFrame()
	defer dst.Free()
	if err := sws.ScaleFrame(src, dst); err != nil {
		return nil, fmt.Errorf("%w: scale: %v", ErrNoPoster, err)
	}
	enc := astiav.FindEncoder(astiav.CodecIDMjpeg)
	if enc == nil {
		return nil, fmt.Errorf("%w: no mjpeg encoder", ErrNoPoster)
	}
	ec := astiav.AllocCodecContext(enc)
	defer ec.Free()
	ec.SetWidth(w)
	ec.SetHeight(h)
	ec.SetPixelFormat(astiav.PixelFormatYuvj420P)
	ec.SetTimeBase(astiav.NewRational(1, 25))
	ec.SetBitRate(2_000_000)
	if err := ec.Open(enc, nil); err != nil {
		return nil, fmt.Errorf("%w: open mjpeg: %v", ErrNoPoster, err)
	}
	dst.SetPts(0)
	dst.SetPictureType(astiav.PictureTypeNone)
	if err := ec.SendFrame(dst); err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrNoPoster, err)
	}
	_ = ec.SendFrame(nil)
	pkt := astiav.AllocPacket()
	defer pkt.Free()
	if err := ec.ReceivePacket(pkt); err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrNoPoster, err)
	}
	return bytes.Clone(pkt.Data()), nil
}

// writeFileAtomic writes through a temporary file so readers never see a
// partial poster.
func writeFileAtomic(out string, data []byte) error {
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("library: write %s: %w", filepath.Base(out), err)
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("library: write %s: %w", filepath.Base(out), err)
	}
	return nil
}

// pngToJPEG re-encodes any decodable picture (PNG, JPEG) as JPEG.
func pngToJPEG(data []byte) ([]byte, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

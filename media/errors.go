package media

import "errors"

// Errors a Player reports; they are wrapped with details and are checked
// with errors.Is.
var (
	// ErrOpen means the source could not be opened or probed: a missing
	// file, a non-media or zero-length file, an HTTP error, a timeout.
	ErrOpen = errors.New("media: cannot open source")
	// ErrNoStreams means the source holds neither audio nor video that can
	// be decoded.
	ErrNoStreams = errors.New("media: no playable audio or video stream")
	// ErrUnsupportedCodec means a stream's codec has no decoder here.
	ErrUnsupportedCodec = errors.New("media: unsupported codec")
	// ErrRead means the source failed while playing: a dropped connection,
	// a truncated or corrupt file.
	ErrRead = errors.New("media: read failed")
	// ErrDecode means too many packets in a row could not be decoded.
	ErrDecode = errors.New("media: decode failed")
	// ErrEncode means an encoder or filter graph failed.
	ErrEncode = errors.New("media: encode failed")
	// ErrSink means the sink refused a frame.
	ErrSink = errors.New("media: sink failed")
)

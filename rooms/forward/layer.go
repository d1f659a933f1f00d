package forward

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// inPacket is one received RTP packet, parsed once. It is immutable after
// parse and shared by the layer's cache and every DownTrack's queue.
type inPacket struct {
	buf      []byte     // the packet as received
	hdr      rtp.Header // extensions and padding stripped: they are per-PC
	payload  []byte     // slice of buf
	size     int        // bytes on the wire
	arrival  int64      // unix nanoseconds
	layer    int8
	keyframe bool // first packet of a key frame (switch point)
	vp8      vp8Descriptor
}

// senderReport is a publisher's RTCP SR (RFC 3550 §6.4.1) and when it came.
type senderReport struct {
	ntp uint64
	rtp uint32
	at  int64 // unix nanoseconds of arrival
}

// layer is one simulcast encoding of a published track.
type layer struct {
	quality Quality
	rid     string
	ssrc    uint32
	track   *webrtc.TrackRemote
	recv    *webrtc.RTPReceiver
	cache   packetCache
	lastPLI atomic.Int64 // unix nanoseconds of the last key frame request
	sr      atomic.Pointer[senderReport]

	// Written by the layer's reader only.
	keyTS       uint32
	keyTSValid  bool
	windowStart time.Time
	windowBytes int

	added       int64        // unix nanoseconds of AddLayer
	lastArrival atomic.Int64 // unix nanoseconds
	bitrate     atomic.Int64 // bits per second over the last window
}

// live reports whether the layer is sending: a packet within layerTimeout,
// or, for a layer that never sent, within layerTimeout of being added
// (a publisher may hold back its top layer from the start).
func (l *layer) live(now int64) bool {
	last := l.lastArrival.Load()
	if last == 0 {
		last = l.added
	}
	return now-last < int64(layerTimeout)
}

// bitrateWindow is how long the reader averages a layer's bitrate over.
const bitrateWindow = time.Second

// noteArrival updates the layer's liveness and bitrate. Reader only.
func (l *layer) noteArrival(now time.Time, n int) {
	l.lastArrival.Store(now.UnixNano())
	if l.windowStart.IsZero() {
		l.windowStart = now
	}
	l.windowBytes += n
	if el := now.Sub(l.windowStart); el >= bitrateWindow {
		l.bitrate.Store(int64(float64(l.windowBytes*8) / el.Seconds()))
		l.windowStart, l.windowBytes = now, 0
	}
}

// packetCacheSize is how many packets per layer are kept for NACKs: about
// 1.5 s of a 2 Mbit/s layer.
const packetCacheSize = 512

// packetCache keeps a layer's recent packets, indexed by their original
// sequence number, to answer NACKs (RFC 4585 §6.2.1). One writer (the
// layer's reader), many readers (DownTracks).
type packetCache struct {
	slots [packetCacheSize]atomic.Pointer[inPacket]
}

func (c *packetCache) put(p *inPacket) {
	c.slots[p.hdr.SequenceNumber%packetCacheSize].Store(p)
}

// get returns the packet with sequence number seq, or nil if evicted.
func (c *packetCache) get(seq uint16) *inPacket {
	p := c.slots[seq%packetCacheSize].Load()
	if p == nil || p.hdr.SequenceNumber != seq {
		return nil
	}
	return p
}

// isClosedErr reports whether a read error means the stream is gone.
func isClosedErr(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

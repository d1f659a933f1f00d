package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// ReceiverParams configures a Receiver.
type ReceiverParams struct {
	// TrackID and StreamID are the defaults for the DownTracks' msid.
	TrackID  string
	StreamID string
	// Kind is audio or video.
	Kind webrtc.RTPCodecType
	// Codec is the publisher's negotiated codec (TrackRemote.Codec()).
	Codec webrtc.RTPCodecParameters
	// Dimensions of each layer (q, h, f) for SetMaxDimensions; zero values
	// default to Marquee ingest's 320x180, 640x360, 1280x720.
	Dimensions [maxLayers]Dimensions
	// SharedClock says all simulcast layers share one RTP timestamp clock
	// base (Marquee's ingest does), so layer switches keep timestamps as
	// they are. Otherwise timestamps are re-based on each switch.
	SharedClock bool
	// RequestKeyframe asks the publisher for a key frame on ssrc, e.g. with
	// pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}).
	// Calls are throttled per layer. Nil means key frames are never requested.
	RequestKeyframe func(ssrc uint32)
	// Logger gets the receiver's events; nil discards them.
	Logger *slog.Logger
	// Metrics is shared by all receivers; nil counts nowhere.
	Metrics *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Writers runs the DownTracks' writers; one pool serves a whole SFU.
	// Nil gives each DownTrack a pool of its own (one goroutine).
	Writers *WriterPool
}

// keyframeRequestInterval throttles PLIs to the publisher per layer
// (RFC 4585 §6.3.1 leaves the rate to the application).
const keyframeRequestInterval = 500 * time.Millisecond

// Receiver reads one published track (all its simulcast layers) and fans
// its packets out to DownTracks. Each layer is read by a goroutine the
// Receiver owns; it never blocks on a DownTrack (see DownTrack's queue).
type Receiver struct {
	params   ReceiverParams
	log      *slog.Logger
	metrics  *Metrics
	isVP8    bool
	isH264   bool
	clock    uint32 // codec clock rate, Hz
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mu       sync.Mutex // guards layers' registration and downs' writers
	layers   [maxLayers]*layer
	downs    atomic.Pointer[[]*DownTrack]
	closed   atomic.Bool
	numLayer atomic.Int32 // layers added
}

// NewReceiver builds a Receiver for one published track. Add its layers
// with AddLayer.
func NewReceiver(p ReceiverParams) *Receiver {
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Metrics == nil {
		p.Metrics, _ = NewMetrics(nil)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	for i := range p.Dimensions {
		if p.Dimensions[i] == (Dimensions{}) {
			p.Dimensions[i] = defaultDimensions[i]
		}
	}
	mime := strings.ToLower(p.Codec.MimeType)
	r := &Receiver{
		params:  p,
		log:     p.Logger.With("track", p.TrackID),
		metrics: p.Metrics,
		isVP8:   mime == strings.ToLower(webrtc.MimeTypeVP8),
		isH264:  mime == strings.ToLower(webrtc.MimeTypeH264),
		clock:   p.Codec.ClockRate,
	}
	if r.clock == 0 {
		r.clock = 90000
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.downs.Store(&[]*DownTrack{})
	return r
}

// TrackID returns the published track's ID.
func (r *Receiver) TrackID() string { return r.params.TrackID }

// Kind returns audio or video.
func (r *Receiver) Kind() webrtc.RTPCodecType { return r.params.Kind }

// Codec returns the publisher's codec.
func (r *Receiver) Codec() webrtc.RTPCodecParameters { return r.params.Codec }

// AddLayer starts forwarding one simulcast layer (RID "q", "h", "f", or ""
// for a single-layer track). The Receiver reads the layer's RTP and RTCP in
// goroutines it owns until Close.
func (r *Receiver) AddLayer(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) error {
	q, err := QualityForRID(track.RID())
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return ErrClosed
	}
	if r.layers[q] != nil {
		return fmt.Errorf("%w: %s", ErrLayerExists, q)
	}
	l := &layer{quality: q, rid: track.RID(), ssrc: uint32(track.SSRC()), track: track, recv: recv,
		added: r.params.Now().UnixNano()}
	r.layers[q] = l
	r.numLayer.Add(1)
	r.wg.Add(2)
	go r.readRTP(l)
	go r.readRTCP(l)
	r.log.Debug("layer added", "quality", q, "ssrc", l.ssrc)
	return nil
}

// AddDownTrack starts forwarding to d. d's writer starts now; packets that
// arrive before its RTPSender is bound are dropped.
func (r *Receiver) AddDownTrack(d *DownTrack) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return ErrClosed
	}
	old := *r.downs.Load()
	next := make([]*DownTrack, 0, len(old)+1)
	for _, o := range old {
		if o.id != d.id {
			next = append(next, o)
		}
	}
	next = append(next, d)
	r.downs.Store(&next)
	return nil
}

// RemoveDownTrack stops forwarding to the DownTrack with id and returns it
// (nil if unknown). The caller closes it.
func (r *Receiver) RemoveDownTrack(id string) *DownTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.downs.Load()
	next := make([]*DownTrack, 0, len(old))
	var found *DownTrack
	for _, o := range old {
		if o.id == id {
			found = o
			continue
		}
		next = append(next, o)
	}
	r.downs.Store(&next)
	return found
}

// DownTracks returns a snapshot of the attached DownTracks.
func (r *Receiver) DownTracks() []*DownTrack {
	return append([]*DownTrack(nil), *r.downs.Load()...)
}

// Close stops reading, waits for the layer goroutines, then closes every
// attached DownTrack. The caller still removes the subscribers' senders.
func (r *Receiver) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	r.cancel()
	r.mu.Lock()
	past := time.Unix(1, 0)
	for _, l := range r.layers {
		if l == nil || l.track == nil || l.recv == nil {
			continue
		}
		_ = l.track.SetReadDeadline(past)
		if l.rid != "" {
			_ = l.recv.SetReadDeadlineSimulcast(past, l.rid)
		} else {
			_ = l.recv.SetReadDeadline(past)
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
	for _, d := range r.DownTracks() {
		r.RemoveDownTrack(d.id)
		_ = d.Close()
	}
	return nil
}

// layerAt returns the layer for q, or nil.
func (r *Receiver) layerAt(q int8) *layer {
	if q < 0 || q >= maxLayers {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.layers[q]
}

// requestKeyframe asks the publisher for a key frame on layer q, at most
// once per keyframeRequestInterval per layer. It reports whether a request
// was sent.
func (r *Receiver) requestKeyframe(q int8) bool {
	l := r.layerAt(q)
	if l == nil || r.params.RequestKeyframe == nil {
		return false
	}
	now := r.params.Now().UnixNano()
	last := l.lastPLI.Load()
	if now-last < int64(keyframeRequestInterval) || !l.lastPLI.CompareAndSwap(last, now) {
		return false
	}
	r.params.RequestKeyframe(l.ssrc)
	r.metrics.plisForwarded.Inc()
	return true
}

// maxWakeDelay bounds how long a video packet waits in the DownTrack
// queues for the rest of its frame before the writers are woken anyway.
const maxWakeDelay = 2 * time.Millisecond

// readRTP is the layer's reader loop: parse once, cache, fan out.
func (r *Receiver) readRTP(l *layer) {
	defer r.wg.Done()
	buf := make([]byte, 1500)
	video := r.params.Kind == webrtc.RTPCodecTypeVideo
	var deferred bool // packets wait in DownTrack queues for a wake-up
	var since int64   // arrival of the first of them
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			if r.ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				r.log.Debug("layer reader stopped", "quality", l.quality, "err", err)
			}
			return
		}
		p, ok := r.parse(l, buf[:n])
		if !ok {
			continue
		}
		l.cache.put(p)
		// Video wakes the writers once a frame, at its last packet (RTP
		// marker bit, RFC 7741 §4.1, RFC 6184 §5.1), or, if the marker is
		// late or lost, at the first packet after the frame's first has
		// waited maxWakeDelay (the writers' timer drains what remains when
		// the publisher stops). Audio wakes them at every packet.
		wake := !video || p.hdr.Marker || (deferred && p.arrival-since > int64(maxWakeDelay))
		if !wake && !deferred {
			deferred, since = true, p.arrival
		}
		if wake {
			deferred = false
		}
		for _, d := range *r.downs.Load() {
			d.push(p, wake)
		}
	}
}

// parse copies one RTP packet into an immutable inPacket shared by the
// cache and every DownTrack.
func (r *Receiver) parse(l *layer, b []byte) (*inPacket, bool) {
	p := &inPacket{layer: int8(l.quality), size: len(b)}
	p.buf = append([]byte(nil), b...)
	var pkt rtp.Packet
	if err := pkt.Unmarshal(p.buf); err != nil || len(pkt.Payload) == 0 {
		return nil, false // malformed, or padding-only probe
	}
	p.hdr = pkt.Header
	p.hdr.Extension, p.hdr.Extensions, p.hdr.Padding, p.hdr.PaddingSize = false, nil, false, 0
	p.payload = pkt.Payload
	now := r.params.Now()
	p.arrival = now.UnixNano()
	l.noteArrival(now, len(b))
	switch {
	case r.isVP8:
		d, err := parseVP8Descriptor(p.payload)
		if err != nil {
			return nil, false
		}
		p.vp8 = d
		p.keyframe = d.keyframe
	case r.isH264:
		key, err := isH264Keyframe(p.payload)
		if err != nil {
			return nil, false
		}
		p.keyframe = key && !(l.keyTSValid && l.keyTS == p.hdr.Timestamp)
		if key {
			l.keyTS, l.keyTSValid = p.hdr.Timestamp, true
		}
	}
	return p, true
}

// readRTCP reads the layer's RTCP (always read RTCP: interceptors run on
// read) and keeps the publisher's latest sender report for A/V sync.
func (r *Receiver) readRTCP(l *layer) {
	defer r.wg.Done()
	for {
		var pkts []rtcp.Packet
		var err error
		if l.rid != "" {
			pkts, _, err = l.recv.ReadSimulcastRTCP(l.rid)
		} else {
			pkts, _, err = l.recv.ReadRTCP()
		}
		if err != nil {
			if r.ctx.Err() != nil || isClosedErr(err) {
				return
			}
			continue // unparseable compound packet
		}
		for _, pkt := range pkts {
			if sr, ok := pkt.(*rtcp.SenderReport); ok && sr.SSRC == l.ssrc {
				l.sr.Store(&senderReport{ntp: sr.NTPTime, rtp: sr.RTPTime, at: r.params.Now().UnixNano()})
			}
		}
	}
}

package forward

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// DownTrackParams configures a DownTrack.
type DownTrackParams struct {
	// SubscriberID identifies the DownTrack within its Receiver (one per
	// subscriber): Receiver.RemoveDownTrack takes it.
	SubscriberID string
	// TrackID and StreamID form the msid the subscriber sees; empty means
	// the Receiver's.
	TrackID, StreamID string
	// Estimator is the subscriber PeerConnection's send-side bandwidth
	// estimate (CongestionControl.Estimator). Nil falls back to REMB and
	// receiver-report loss.
	Estimator BandwidthEstimator
	// QueueSize bounds the packets waiting for the writer; 0 means 512 for
	// video and 128 for audio.
	QueueSize int
	// Logger gets the DownTrack's events; nil means the Receiver's.
	Logger *slog.Logger
	// Batcher groups what one writer turn sends to the subscriber (a video
	// frame's packets) into one send; nil sends packet by packet.
	Batcher Batcher
	// Direct is the subscriber connection's own SRTP path; nil (or not yet
	// Ready) sends through pion's RTPSender.
	Direct DirectPath

	beforeWrite func() // test hook, called by the writer before each packet
}

// BandwidthEstimator is what a DownTrack needs from congestion control:
// the estimated bits per second the subscriber's path can take.
// pion/interceptor's cc.BandwidthEstimator satisfies it.
type BandwidthEstimator interface {
	GetTargetBitrate() int
}

// Batcher is what a DownTrack needs from a socket that batches writes
// per destination (rooms backs it with internal/udpbatch's UDP GSO).
// Several DownTracks of one subscriber may hold at once; what they wrote
// goes out when the last one releases.
type Batcher interface {
	// Hold starts holding the subscriber's writes and returns what to pass
	// to Release (the zero value when nothing is held).
	Hold() netip.AddrPort
	// Release sends what was written since the matching Hold.
	Release(netip.AddrPort)
}

// DirectPath is a subscriber connection's own SRTP path: rooms builds it
// from the keys of the connection's DTLS handshake (RFC 5764 §4.2) and
// the selected ICE pair. Writing through it skips pion's interceptor
// chain, SRTP session, mux and ICE layers for every packet, and the
// subscriber's RTCP reaches Attach's handlers straight from the socket,
// without passing through pion's per-connection goroutines.
type DirectPath interface {
	// Ready reports whether WriteRTP can be used; until then packets go
	// through pion.
	Ready() bool
	// WriteRTP encrypts one packet (RFC 3711 §3.3) and sends it.
	WriteRTP(h *rtp.Header, payload []byte) error
	// Attach routes the subscriber's RTCP about ssrc to handle until
	// detach is called. Transport-wide feedback goes to the connection's
	// estimator instead.
	Attach(ssrc uint32, handle func(rtcp.Packet)) (detach func())
}

// binding is what Bind learned about the subscriber's RTPSender.
type binding struct {
	ssrc   uint32
	pt     uint8
	twccID uint8 // transport-wide sequence number extension; 0: none
	red    bool  // pt is RFC 2198 RED carrying redPT (Opus) blocks
	redPT  uint8
	writer webrtc.TrackLocalWriter
	detach func() // ends DirectPath.Attach; nil without a direct path
}

// queued is one packet waiting for the writer.
type queued struct {
	p      *inPacket
	resync bool // first key frame after drops: restart the stream here
}

// DownTrack forwards one Receiver's track to one subscriber. It implements
// webrtc.TrackLocal. Packets wait in a bounded queue drained by writer
// turns on a WriterPool, so a slow subscriber only hurts itself: when
// the queue is full, video is dropped until the next key frame (counted in
// Dropped and the dropped-packets metric).
type DownTrack struct {
	r         *Receiver
	id        string
	trackID   string
	streamID  string
	kind      webrtc.RTPCodecType
	log       *slog.Logger
	metrics   *Metrics
	estimator BandwidthEstimator
	stamper   *twccEstimator // estimator, when it is this package's: direct writes number packets with it
	batcher   Batcher
	direct    DirectPath

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the RTCP reader
	done   chan struct{}
	closed atomic.Bool

	// The writer is a turn on a WriterPool worker (service), taken when
	// signal finds the DownTrack not yet scheduled. The queue, NACKs,
	// settings and the timer all signal; wakeDue remembers a signal that
	// came during a turn, so the worker schedules another.
	pool        *WriterPool
	ownPool     bool // made for this DownTrack alone; closed with it
	scheduled   atomic.Bool
	wakeDue     atomic.Bool
	running     sync.Mutex // held for a turn; Close waits on it
	tick        *time.Timer
	queue       chan queued
	nacks       chan []uint16
	settingsDue atomic.Bool
	tickDue     atomic.Bool

	bound     atomic.Pointer[binding]
	sender    atomic.Pointer[webrtc.RTPSender]
	startOnce sync.Once

	// Set by API callers, read by the writer.
	maxQuality atomic.Int32
	maxWidth   atomic.Int32
	maxHeight  atomic.Int32

	// Published by the writer, read by enqueue and the RTCP reader.
	layerMask   atomic.Uint32 // layers enqueue accepts
	curLayer    atomic.Int32
	targetLayer atomic.Int32
	awaitKey    atomic.Bool // queue overflowed: drop video until a key frame

	// Set by the RTCP reader, read by the writer.
	remb         atomic.Int64
	fractionLost atomic.Uint32

	stats downTrackCounters
	w     writerState // owned by the writer turns

	beforeWrite func() // test hook, called by the writer before each packet
}

// downTrackCounters are a DownTrack's running totals.
type downTrackCounters struct {
	packets, octets, dropped, switches, nacksAnswered atomic.Uint64
}

// DownTrackStats is a snapshot of a DownTrack's totals.
type DownTrackStats struct {
	Packets, Octets, Dropped, LayerSwitches, NACKsAnswered uint64
	// Layer is the layer being forwarded (-1: none yet); TargetLayer the
	// one it is switching to.
	Layer, TargetLayer int
}

// NewDownTrack builds a DownTrack for r and starts its writer. Add it to a
// subscriber PeerConnection (AddTrack), call Start with the RTPSender, then
// r.AddDownTrack.
func NewDownTrack(r *Receiver, p DownTrackParams) *DownTrack {
	if p.TrackID == "" {
		p.TrackID = r.params.TrackID
	}
	if p.StreamID == "" {
		p.StreamID = r.params.StreamID
	}
	if p.Logger == nil {
		p.Logger = r.log
	}
	if p.QueueSize <= 0 {
		p.QueueSize = 128
		if r.params.Kind == webrtc.RTPCodecTypeVideo {
			p.QueueSize = 512
		}
	}
	d := &DownTrack{
		r:         r,
		id:        p.SubscriberID,
		trackID:   p.TrackID,
		streamID:  p.StreamID,
		kind:      r.params.Kind,
		log:       p.Logger.With("subscriber", p.SubscriberID),
		metrics:   r.metrics,
		estimator: p.Estimator,
		batcher:   p.Batcher,
		direct:    p.Direct,
		done:      make(chan struct{}),
		queue:     make(chan queued, p.QueueSize),
		nacks:     make(chan []uint16, 16),
		pool:      r.params.Writers,
	}
	if d.pool == nil {
		d.pool, d.ownPool = NewWriterPool(1, d.log), true
	}
	d.beforeWrite = p.beforeWrite
	d.stamper, _ = p.Estimator.(*twccEstimator)
	d.maxQuality.Store(int32(QualityHigh))
	d.curLayer.Store(-1)
	d.targetLayer.Store(-1)
	d.w.init()
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.tick = time.AfterFunc(writerTick, func() {
		d.tickDue.Store(true)
		d.signal()
	})
	d.notify() // the first turn picks the starting layer
	return d
}

// SubscriberID returns the ID given in DownTrackParams.
func (d *DownTrack) SubscriberID() string { return d.id }

// ID is the track ID of the msid (webrtc.TrackLocal).
func (d *DownTrack) ID() string { return d.trackID }

// RID is empty: a subscriber receives one layer (webrtc.TrackLocal).
func (d *DownTrack) RID() string { return "" }

// StreamID is the stream ID of the msid (webrtc.TrackLocal).
func (d *DownTrack) StreamID() string { return d.streamID }

// Kind is audio or video (webrtc.TrackLocal).
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.kind }

// Bind is called by pion when the subscriber's RTPSender starts; it picks
// the publisher's codec among the negotiated ones, or RED over it for
// Opus when the subscriber negotiated RED (red.go) (webrtc.TrackLocal).
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, redPT, red := redCodec(d.r.params.Codec, ctx.CodecParameters())
	if !red {
		var err error
		if codec, err = matchCodec(d.r.params.Codec, ctx.CodecParameters()); err != nil {
			return webrtc.RTPCodecParameters{}, err
		}
	}
	b := &binding{ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType), writer: ctx.WriteStream(),
		red: red, redPT: redPT}
	for _, x := range ctx.HeaderExtensions() {
		if x.URI == transportCCURI {
			b.twccID = uint8(x.ID)
		}
	}
	if d.direct != nil {
		b.detach = d.direct.Attach(b.ssrc, d.handleRTCP)
	}
	d.unbind(d.bound.Swap(b))
	d.notify()
	return codec, nil
}

// Unbind is called by pion when the RTPSender stops (webrtc.TrackLocal).
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.unbind(d.bound.Swap(nil))
	return nil
}

// unbind ends what a past Bind attached.
func (d *DownTrack) unbind(b *binding) {
	if b != nil && b.detach != nil {
		b.detach()
	}
}

// Start begins reading the subscriber's RTCP for this track (NACK, PLI/FIR,
// REMB, receiver reports, and the TWCC feedback the congestion controller
// consumes on read). Call it once, with the sender AddTrack returned. The
// DownTrack owns the sender from then on: Close stops it.
func (d *DownTrack) Start(sender *webrtc.RTPSender) {
	d.startOnce.Do(func() {
		if d.closed.Load() {
			return
		}
		d.sender.Store(sender)
		d.wg.Add(1)
		go d.readRTCP(sender)
	})
}

// SetMaxQuality caps the layer this subscriber receives; QualityOff pauses
// the track (audio too). The writer switches at the next key frame.
func (d *DownTrack) SetMaxQuality(q Quality) {
	d.maxQuality.Store(int32(q))
	d.notify()
}

// SetMaxDimensions selects the smallest layer covering w×h (the
// subscriber's video element). Non-zero dimensions take precedence over
// SetMaxQuality's cap, except QualityOff, as LiveKit's UpdateTrackSettings
// defines; 0, 0 returns to the quality cap.
func (d *DownTrack) SetMaxDimensions(w, h int) {
	d.maxWidth.Store(int32(w))
	d.maxHeight.Store(int32(h))
	d.notify()
}

// Stats returns the DownTrack's running totals.
func (d *DownTrack) Stats() DownTrackStats {
	return DownTrackStats{
		Packets:       d.stats.packets.Load(),
		Octets:        d.stats.octets.Load(),
		Dropped:       d.stats.dropped.Load(),
		LayerSwitches: d.stats.switches.Load(),
		NACKsAnswered: d.stats.nacksAnswered.Load(),
		Layer:         int(d.curLayer.Load()),
		TargetLayer:   int(d.targetLayer.Load()),
	}
}

// Done is closed when the DownTrack has stopped (Close, or its Receiver
// closed), so rooms can remove the subscriber's sender.
func (d *DownTrack) Done() <-chan struct{} { return d.done }

// Close stops the writer and the RTCP reader, stops the RTPSender given to
// Start, and waits for both goroutines. The caller still calls
// pc.RemoveTrack(sender) to renegotiate.
func (d *DownTrack) Close() error {
	if !d.closed.CompareAndSwap(false, true) {
		<-d.done
		return nil
	}
	d.cancel()
	var err error
	d.startOnce.Do(func() {}) // no reader may start after this point
	if s := d.sender.Load(); s != nil {
		if serr := s.Stop(); serr != nil {
			err = fmt.Errorf("forward: stop sender: %w", serr)
		}
	}
	d.wg.Wait()
	d.unbind(d.bound.Swap(nil))
	// Wait for a turn in progress; later turns see closed and return, so
	// the timer stays stopped.
	d.running.Lock()
	d.tick.Stop()
	d.running.Unlock()
	if d.ownPool {
		d.pool.Close()
	}
	close(d.done)
	return err
}

// notify wakes the writer to re-evaluate its layer.
func (d *DownTrack) notify() {
	d.settingsDue.Store(true)
	d.signal()
}

// enqueue queues p and wakes the writer; see push.
func (d *DownTrack) enqueue(p *inPacket) { d.push(p, true) }

// push is called by the Receiver's layer readers for every packet. It
// never blocks: when the queue is full, the packet is dropped and, for
// video, everything up to the next key frame too. With wake false the
// packet waits for a later push (the rest of its frame) to wake the
// writer, so the writer forwards a frame per wake-up instead of a packet;
// a queue half full wakes it regardless.
func (d *DownTrack) push(p *inPacket, wake bool) {
	d.accept(p)
	if (wake || len(d.queue) >= cap(d.queue)/2) && len(d.queue) > 0 {
		d.signal()
	}
}

// accept queues p unless its layer is not wanted or the queue is full.
func (d *DownTrack) accept(p *inPacket) {
	if d.kind != webrtc.RTPCodecTypeVideo {
		if d.layerMask.Load() == 0 {
			return // paused (QualityOff)
		}
		select {
		case d.queue <- queued{p: p}:
		default:
			d.drop(d.metrics.droppedQueue)
		}
		return
	}
	if d.layerMask.Load()&(1<<uint(p.layer)) == 0 {
		return
	}
	resync := false
	if d.awaitKey.Load() {
		if !p.keyframe {
			d.drop(d.metrics.droppedWaitKey)
			return
		}
		resync = true
	}
	select {
	case d.queue <- queued{p: p, resync: resync}:
		if resync {
			d.awaitKey.Store(false)
		}
	default:
		d.drop(d.metrics.droppedQueue)
		if d.awaitKey.CompareAndSwap(false, true) {
			d.r.requestKeyframe(int8(d.targetLayer.Load()))
		}
	}
}

// signal asks for a writer turn; it then handles whatever is due.
func (d *DownTrack) signal() {
	d.wakeDue.Store(true)
	if d.scheduled.CompareAndSwap(false, true) {
		d.pool.schedule(d)
	}
}

// pending reports whether a signal came since the current turn began.
func (d *DownTrack) pending() bool { return d.wakeDue.Load() }

func (d *DownTrack) drop(c interface{ Inc() }) {
	d.stats.dropped.Add(1)
	c.Inc()
}

// matchCodec picks the negotiated codec matching the publisher's: same
// MIME type, and for H.264 the same packetization-mode (RFC 6184 §8.1).
func matchCodec(want webrtc.RTPCodecParameters, have []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, error) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range have {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return c, nil
		}
		if strings.EqualFold(want.MimeType, webrtc.MimeTypeH264) &&
			fmtpParam(c.SDPFmtpLine, "packetization-mode") != fmtpParam(want.SDPFmtpLine, "packetization-mode") {
			continue
		}
		if fallback == nil {
			fallback = &have[i]
		}
	}
	if fallback == nil {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: %s", ErrCodecNotNegotiated, want.MimeType)
	}
	return *fallback, nil
}

// fmtpParam returns one key of an a=fmtp line ("0" default for
// packetization-mode, RFC 6184 §8.1).
func fmtpParam(line, key string) string {
	for _, kv := range strings.Split(line, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && strings.EqualFold(k, key) {
			return v
		}
	}
	if key == "packetization-mode" {
		return "0"
	}
	return ""
}

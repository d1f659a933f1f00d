package rooms

import (
	"github.com/livekit/protocol/livekit"
	"github.com/marquee-party/marquee/rooms/forward"
	"github.com/pion/webrtc/v4"
)

// trackForwarder fans one published track out to its subscribers; the
// rooms package needs only these calls from rooms/forward's Receiver.
type trackForwarder interface {
	// AddLayer feeds one received simulcast layer (or the only stream).
	AddLayer(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) error
	// NewDownTrack makes the local track one subscriber's connection sends;
	// est is that connection's bandwidth estimate, batch its send batching
	// and direct its own SRTP path (any may be nil).
	NewDownTrack(subscriberID string, est forward.BandwidthEstimator, batch forward.Batcher, direct forward.DirectPath) downTrack
	// RemoveDownTrack stops forwarding to a subscriber and closes its
	// downtrack.
	RemoveDownTrack(subscriberID string)
	// Close stops every goroutine and waits for them.
	Close() error
}

// downTrack is one subscriber's copy of a published track.
type downTrack interface {
	webrtc.TrackLocal
	// Attach starts forwarding once the track is on a peer connection; the
	// downtrack reads the sender's RTCP (PLI, NACK, TWCC) from then on.
	Attach(sender *webrtc.RTPSender) error
	// SetLimits applies the subscriber's UpdateTrackSettings.
	SetLimits(disabled bool, quality livekit.VideoQuality, width, height uint32)
	// Close stops the downtrack (and its sender, once attached).
	Close() error
}

// receiverForwarder adapts *forward.Receiver to trackForwarder.
type receiverForwarder struct{ r *forward.Receiver }

func (f receiverForwarder) AddLayer(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) error {
	return f.r.AddLayer(remote, recv)
}

func (f receiverForwarder) NewDownTrack(sub string, est forward.BandwidthEstimator, batch forward.Batcher,
	direct forward.DirectPath) downTrack {
	return forwardDown{DownTrack: forward.NewDownTrack(f.r, forward.DownTrackParams{
		SubscriberID: sub, Estimator: est, Batcher: batch, Direct: direct}), r: f.r}
}

func (f receiverForwarder) RemoveDownTrack(sub string) {
	if d := f.r.RemoveDownTrack(sub); d != nil {
		_ = d.Close()
	}
}

func (f receiverForwarder) Close() error { return f.r.Close() }

type forwardDown struct {
	*forward.DownTrack
	r *forward.Receiver
}

func (d forwardDown) Attach(sender *webrtc.RTPSender) error {
	d.Start(sender)
	return d.r.AddDownTrack(d.DownTrack)
}

// SetLimits maps UpdateTrackSettings as LiveKit does: a width and height
// (livekit-client's adaptive stream sizes them from the video element)
// take precedence over quality, which then is left at its zero value, LOW;
// otherwise quality caps the layer. LiveKit's VideoQuality values are
// forward.Quality's.
func (d forwardDown) SetLimits(disabled bool, q livekit.VideoQuality, w, h uint32) {
	switch {
	case disabled:
		d.SetMaxQuality(forward.QualityOff)
	case w > 0 && h > 0:
		d.SetMaxQuality(forward.QualityHigh)
		d.SetMaxDimensions(int(w), int(h))
	default:
		d.SetMaxQuality(forward.Quality(q))
		d.SetMaxDimensions(0, 0)
	}
}

// layerDimensions turns the publisher's announced layers into the
// receiver's layer sizes; zero entries fall back to the ingest's.
func layerDimensions(layers []*livekit.VideoLayer) [3]forward.Dimensions {
	var out [3]forward.Dimensions
	for _, l := range layers {
		if i := int(l.Quality); i >= 0 && i < 3 && l.Width > 0 {
			out[i] = forward.Dimensions{Width: int(l.Width), Height: int(l.Height)}
		}
	}
	return out
}

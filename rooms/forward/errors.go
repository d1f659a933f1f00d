package forward

import "errors"

// Errors returned by this package; check them with errors.Is.
var (
	// ErrMalformedPayload means an RTP payload is shorter than the codec
	// payload descriptor it announces. Such packets are forwarded only
	// when the codec needs no rewriting; otherwise they are dropped.
	ErrMalformedPayload = errors.New("forward: malformed RTP payload")
	// ErrCodecNotNegotiated means the subscriber's PeerConnection did not
	// negotiate the publisher's codec, so the DownTrack cannot be bound.
	ErrCodecNotNegotiated = errors.New("forward: codec not negotiated by subscriber")
	// ErrUnknownLayer means a simulcast RID other than "q", "h", "f" or "".
	ErrUnknownLayer = errors.New("forward: unknown simulcast layer")
	// ErrLayerExists means AddLayer was called twice for one layer.
	ErrLayerExists = errors.New("forward: layer already added")
	// ErrMalformedRED means a RED payload (RFC 2198) whose block headers
	// announce more data than it carries.
	ErrMalformedRED = errors.New("forward: malformed RED payload")
	// ErrClosed means the Receiver or DownTrack was closed.
	ErrClosed = errors.New("forward: closed")
)

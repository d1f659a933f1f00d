package rooms

import (
	"fmt"
	"log/slog"

	"github.com/livekit/protocol/livekit"
	protosignalling "github.com/livekit/protocol/signalling"
	"github.com/marquee-party/marquee/internal/dtlskeys"
	"github.com/marquee-party/marquee/rooms/forward"
	"github.com/pion/webrtc/v4"
)

// transport is one peer connection with LiveKit's negotiation rules. An
// offerer transport (classic subscriber) sends offers and takes answers;
// an answerer (classic publisher, or the /rtc/v1 single connection) takes
// offers and answers them. All methods run on the owning participant's
// goroutine; pion callbacks only post to it or send signal messages.
type transport struct {
	pc      *webrtc.PeerConnection
	est     forward.BandwidthEstimator // send-side estimate, for downtracks
	batch   forward.Batcher            // per-turn send batching, for downtracks (may be nil)
	direct  *directPeer                // own SRTP path, for downtracks (may be nil)
	target  livekit.SignalTarget       // target named in the trickles we send
	offerer bool
	send    func(*livekit.SignalResponse)
	log     *slog.Logger

	pendingCandidates []webrtc.ICECandidateInit
	offerID           uint32
	awaitingAnswer    bool
	renegotiate       bool
	restartICE        bool
}

func newTransport(media *mediaAPI, target livekit.SignalTarget, offerer, receives bool,
	send func(*livekit.SignalResponse), log *slog.Logger) (*transport, error) {
	api := media.sendAPI
	var capture *dtlskeys.Capture
	switch {
	case receives:
		api = media.api
	case media.direct != nil:
		api, capture = media.directAPI()
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{SDPSemantics: webrtc.SDPSemanticsUnifiedPlan})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	t := &transport{pc: pc, est: media.ccl.Estimator(pc), target: target, offerer: offerer, send: send, log: log}
	if media.udp != nil {
		b := &peerBatch{conn: media.udp}
		if media.batch {
			t.batch = b
		}
		if capture != nil {
			t.direct = newDirectPeer(pc, b, media.direct, capture, t.est, log)
		} else {
			b.followSelected(pc, nil)
		}
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Trickle{
			Trickle: protosignalling.ToProtoTrickle(c.ToJSON(), target, false)}})
	})
	return t, nil
}

// addCandidate applies a remote candidate, holding it until the remote
// description is set (RFC 8838 §4 allows trickling before the answer).
func (t *transport) addCandidate(init webrtc.ICECandidateInit) error {
	if t.pc.RemoteDescription() == nil {
		t.pendingCandidates = append(t.pendingCandidates, init)
		return nil
	}
	return t.pc.AddICECandidate(init)
}

func (t *transport) flushCandidates() {
	for _, c := range t.pendingCandidates {
		if err := t.pc.AddICECandidate(c); err != nil {
			t.log.Debug("drop remote candidate", "err", err)
		}
	}
	t.pendingCandidates = nil
}

// negotiate sends a new offer, or marks one as needed if an answer is
// still awaited (one offer in flight at a time, RFC 8829 §4.1.8).
func (t *transport) negotiate(iceRestart bool) error {
	if !t.offerer {
		return nil
	}
	t.restartICE = t.restartICE || iceRestart
	if t.awaitingAnswer || t.pc.SignalingState() != webrtc.SignalingStateStable {
		t.renegotiate = true
		return nil
	}
	offer, err := t.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: t.restartICE})
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := t.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	t.restartICE = false
	t.offerID++
	t.awaitingAnswer = true
	t.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Offer{
		Offer: protosignalling.ToProtoSessionDescription(*t.pc.LocalDescription(), t.offerID, t.midToTrackID())}})
	return nil
}

// handleAnswer applies the client's answer to our offer.
func (t *transport) handleAnswer(sd webrtc.SessionDescription) error {
	if !t.offerer || !t.awaitingAnswer || sd.Type != webrtc.SDPTypeAnswer {
		return fmt.Errorf("%w: answer without an offer in flight", ErrBadRequest)
	}
	if err := t.pc.SetRemoteDescription(sd); err != nil {
		return fmt.Errorf("%w: set remote answer: %v", ErrBadRequest, err)
	}
	t.awaitingAnswer = false
	t.flushCandidates()
	if t.renegotiate {
		t.renegotiate = false
		return t.negotiate(false)
	}
	return nil
}

// handleOffer answers the client's offer, echoing its id as livekit-client
// uses it to drop stale answers.
func (t *transport) handleOffer(sd webrtc.SessionDescription, id uint32) error {
	if t.offerer || sd.Type != webrtc.SDPTypeOffer {
		return fmt.Errorf("%w: offer sent to the wrong transport", ErrBadRequest)
	}
	if err := t.pc.SetRemoteDescription(sd); err != nil {
		return fmt.Errorf("%w: set remote offer: %v", ErrBadRequest, err)
	}
	t.flushCandidates()
	answer, err := t.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := t.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	t.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Answer{
		Answer: protosignalling.ToProtoSessionDescription(*t.pc.LocalDescription(), id, t.midToTrackID())}})
	return nil
}

// midToTrackID maps each sending m-section to its track SID, which
// livekit-client uses on /rtc/v1 to attribute received tracks.
func (t *transport) midToTrackID() map[string]string {
	out := map[string]string{}
	for _, tr := range t.pc.GetTransceivers() {
		if s := tr.Sender(); s != nil && s.Track() != nil && tr.Mid() != "" {
			out[tr.Mid()] = s.Track().ID()
		}
	}
	return out
}

// unassigned counts transceivers of a kind still waiting for an m-section
// from the client's next offer (single-PC mode).
func (t *transport) unassigned(kind webrtc.RTPCodecType) int {
	n := 0
	for _, tr := range t.pc.GetTransceivers() {
		if tr.Kind() == kind && tr.Mid() == "" && tr.Sender() != nil && tr.Sender().Track() != nil {
			n++
		}
	}
	return n
}

func (t *transport) close() error {
	if t.direct != nil {
		t.direct.close()
	}
	return t.pc.Close()
}

// directPath is the downtracks' DirectPath, nil when there is none (a
// nil *directPeer must not become a non-nil interface).
func (t *transport) directPath() forward.DirectPath {
	if t.direct == nil {
		return nil
	}
	return t.direct
}

package rooms

import (
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/livekit/protocol/livekit"
	protosignalling "github.com/livekit/protocol/signalling"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// handleSignal applies one client message (livekit_rtc.proto SignalRequest).
// Errors go back to this client only; the room is never affected.
func (p *participant) handleSignal(req *livekit.SignalRequest) {
	if p.leaving {
		return
	}
	if err := p.dispatch(req); err != nil {
		reason := "unexpected"
		if errors.Is(err, ErrPermissionDenied) {
			reason = "denied"
		}
		p.srv.metrics.signalErrors.WithLabelValues(reason).Inc()
		p.log.Debug("signal request rejected", "err", err)
		p.sendError(0, livekit.RequestResponse_UNCLASSIFIED_ERROR, err.Error())
	}
}

func (p *participant) sendError(id uint32, reason livekit.RequestResponse_Reason, msg string) {
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{
		RequestResponse: &livekit.RequestResponse{RequestId: id, Reason: reason, Message: msg}}})
}

func (p *participant) dispatch(req *livekit.SignalRequest) error {
	switch m := req.Message.(type) {
	case *livekit.SignalRequest_Offer:
		return p.handleOffer(m.Offer)
	case *livekit.SignalRequest_Answer:
		if p.sub == nil || m.Answer == nil {
			return fmt.Errorf("%w: no subscriber offer to answer", ErrBadRequest)
		}
		sd, _, _ := protosignalling.FromProtoSessionDescription(m.Answer)
		return p.sub.handleAnswer(sd)
	case *livekit.SignalRequest_Trickle:
		return p.handleTrickle(m.Trickle)
	case *livekit.SignalRequest_AddTrack:
		return p.handleAddTrack(m.AddTrack)
	case *livekit.SignalRequest_Mute:
		return p.handleMute(m.Mute)
	case *livekit.SignalRequest_Subscription:
		return p.handleSubscription(m.Subscription)
	case *livekit.SignalRequest_TrackSetting:
		return p.handleTrackSettings(m.TrackSetting)
	case *livekit.SignalRequest_Leave:
		p.leave(livekit.DisconnectReason_CLIENT_INITIATED)
		return nil
	case *livekit.SignalRequest_UpdateMetadata:
		return p.handleUpdateMetadata(m.UpdateMetadata)
	case *livekit.SignalRequest_Ping:
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Pong{Pong: m.Ping}})
		return nil
	case *livekit.SignalRequest_PingReq:
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_PongResp{PongResp: &livekit.Pong{
			LastPingTimestamp: m.PingReq.GetTimestamp(), Timestamp: time.Now().UnixMilli()}}})
		return nil
	case *livekit.SignalRequest_SyncState, *livekit.SignalRequest_SubscriptionPermission,
		*livekit.SignalRequest_UpdateLayers, *livekit.SignalRequest_Simulate,
		*livekit.SignalRequest_UpdateAudioTrack, *livekit.SignalRequest_UpdateVideoTrack:
		// Accepted and not acted on: state sync after resume is implied by
		// our server-side state; the rest are optional features.
		return nil
	default:
		return fmt.Errorf("%w: unsupported signal message %T", ErrBadRequest, m)
	}
}

func (p *participant) handleOffer(sd *livekit.SessionDescription) error {
	if sd == nil {
		return fmt.Errorf("%w: empty offer", ErrBadRequest)
	}
	desc, id, _ := protosignalling.FromProtoSessionDescription(sd)
	if err := p.pub.handleOffer(desc, id); err != nil {
		return err
	}
	p.reapUnpublished(desc)
	p.announceNegotiated()
	if p.singlePC {
		// The answer already carries every downtrack attached so far; only
		// downtracks still without an m-section need another round.
		p.negotiationDue = false
		p.requested = [2]int{}
		p.requestSections(false)
	}
	return nil
}

func (p *participant) handleTrickle(t *livekit.TrickleRequest) error {
	if t == nil {
		return fmt.Errorf("%w: empty trickle", ErrBadRequest)
	}
	init, err := protosignalling.FromProtoTrickle(t)
	if err != nil {
		return fmt.Errorf("%w: bad candidate: %v", ErrBadRequest, err)
	}
	if init.Candidate == "" {
		return nil // end of candidates (RFC 8838 §8.2): nothing to add
	}
	tr := p.pub
	if t.Target == livekit.SignalTarget_SUBSCRIBER {
		if p.sub == nil {
			return fmt.Errorf("%w: no subscriber transport on /rtc/v1", ErrBadRequest)
		}
		tr = p.sub
	}
	if err := tr.addCandidate(init); err != nil {
		return fmt.Errorf("%w: add candidate: %v", ErrBadRequest, err)
	}
	return nil
}

func (p *participant) handleMute(m *livekit.MuteTrackRequest) error {
	pub, ok := p.published[m.GetSid()]
	var info *livekit.TrackInfo
	if ok {
		info = pub.info
	} else {
		for _, t := range p.pending {
			if t.Sid == m.GetSid() {
				info = t
			}
		}
	}
	if info == nil {
		return fmt.Errorf("%w: mute of unknown track %q", ErrTrackNotFound, m.GetSid())
	}
	p.setMuted(info, m.Muted)
	return nil
}

func (p *participant) setMuted(info *livekit.TrackInfo, muted bool) {
	if info.Muted == muted {
		return
	}
	info.Muted = muted
	for _, t := range p.info.Tracks {
		if t.Sid == info.Sid {
			t.Muted = muted
		}
	}
	p.changed()
}

func (p *participant) handleSubscription(s *livekit.UpdateSubscription) error {
	if s == nil {
		return fmt.Errorf("%w: empty subscription update", ErrBadRequest)
	}
	sids := append([]string(nil), s.TrackSids...)
	for _, pt := range s.ParticipantTracks {
		sids = append(sids, pt.TrackSids...)
	}
	if !s.Subscribe {
		for _, sid := range sids {
			p.unsubscribe(sid)
		}
		return nil
	}
	if !p.info.Permission.GetCanSubscribe() {
		p.srv.metrics.permissionDenys.WithLabelValues("subscribe").Inc()
		return fmt.Errorf("%w: canSubscribe not granted", ErrPermissionDenied)
	}
	p.room.post(func() {
		for _, sid := range sids {
			if t, ok := p.room.tracks[sid]; ok && t.publisher != p {
				p.post(func() { p.subscribe(t) })
			}
		}
	})
	return nil
}

func (p *participant) handleTrackSettings(s *livekit.UpdateTrackSettings) error {
	for _, sid := range s.GetTrackSids() {
		if sub, ok := p.subs[sid]; ok {
			sub.down.SetLimits(s.Disabled, s.Quality, s.Width, s.Height)
		}
	}
	return nil
}

// handleUpdateMetadata applies a participant's change to its own name,
// metadata and attributes: only with canUpdateOwnMetadata, never to an
// identity-bearing attribute, within the size limits and the per
// participant and per room rates. A refusal answers the request with
// NOT_ALLOWED or LIMIT_EXCEEDED and a message saying why.
func (p *participant) handleUpdateMetadata(u *livekit.UpdateParticipantMetadata) error {
	if !p.info.Permission.GetCanUpdateMetadata() {
		p.srv.metrics.permissionDenys.WithLabelValues("metadata").Inc()
		p.sendError(u.RequestId, livekit.RequestResponse_NOT_ALLOWED, "canUpdateOwnMetadata not granted")
		return nil
	}
	for k := range u.Attributes {
		if roomconv.IsTokenOnlyAttribute(k) {
			p.srv.metrics.permissionDenys.WithLabelValues("metadata").Inc()
			p.sendError(u.RequestId, livekit.RequestResponse_NOT_ALLOWED,
				fmt.Sprintf("attribute %q comes from the access token only; ask the server to change it", k))
			return nil
		}
	}
	if !p.metaLimiter.Allow() || !p.room.metaLimiter.Allow() {
		p.srv.metrics.limitRefusals.WithLabelValues("metadata_rate").Inc()
		p.sendError(u.RequestId, livekit.RequestResponse_LIMIT_EXCEEDED,
			"metadata updates come too fast for this participant or room; retry in a second")
		return nil
	}
	if err := p.applyMetadata(u.Name, u.Metadata, u.Attributes); err != nil {
		p.sendError(u.RequestId, livekit.RequestResponse_LIMIT_EXCEEDED, err.Error())
		return nil
	}
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{
		RequestResponse: &livekit.RequestResponse{RequestId: u.RequestId, Reason: livekit.RequestResponse_OK}}})
	return nil
}

// applyMetadata updates name, metadata and attributes; an empty attribute
// value deletes the key, as in LiveKit. A result over the configured size
// limits is refused whole (ErrLimitExceeded) and counted.
func (p *participant) applyMetadata(name, metadata string, attrs map[string]string) error {
	newName, newMeta := p.info.Name, p.info.Metadata
	if name != "" {
		newName = name
	}
	if metadata != "" {
		newMeta = metadata
	}
	newAttrs := maps.Clone(p.info.Attributes)
	if newAttrs == nil {
		newAttrs = map[string]string{}
	}
	for k, v := range attrs {
		if v == "" {
			delete(newAttrs, k)
		} else {
			newAttrs[k] = v
		}
	}
	if what, err := p.srv.cfg.Limit.checkParticipant(newName, newMeta, newAttrs); err != nil {
		p.srv.metrics.limitRefusals.WithLabelValues(what).Inc()
		return err
	}
	p.info.Name, p.info.Metadata, p.info.Attributes = newName, newMeta, newAttrs
	p.changed()
	return nil
}

// onDataMessage handles a packet a client sent on one of its channels.
func (p *participant) onDataMessage(label string, msg webrtc.DataChannelMessage) {
	if !p.info.Permission.GetCanPublishData() {
		p.srv.metrics.dataRefused.Inc()
		p.srv.metrics.permissionDenys.WithLabelValues("data").Inc()
		return
	}
	dp, err := decodeDataPacket(msg.IsString, msg.Data)
	if err != nil {
		p.srv.metrics.signalErrors.WithLabelValues("malformed").Inc()
		return
	}
	kind := livekit.DataPacket_RELIABLE
	if label == lossyLabel {
		kind = livekit.DataPacket_LOSSY
	}
	p.room.post(func() { p.room.relayData(p, dp, kind) })
}

// setPermission applies a RoomService permission change (the next
// participant update tells the client). Revoking canSubscribe drops every
// subscription; revoking a source unpublishes its tracks, as in LiveKit.
func (p *participant) setPermission(perm *livekit.ParticipantPermission) {
	p.info.Permission = proto.Clone(perm).(*livekit.ParticipantPermission)
	if !perm.CanSubscribe {
		for sid := range p.subs {
			p.unsubscribe(sid)
		}
	}
	for sid, pub := range p.published {
		if !canPublishSource(perm, pub.info.Source) {
			p.unpublish(sid)
		}
	}
	for cid, info := range p.pending {
		if !canPublishSource(perm, info.Source) {
			delete(p.pending, cid)
		}
	}
}

package rooms

import (
	"fmt"
	"strings"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/utils/guid"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxTracksPerParticipant bounds announced plus published tracks, so a
// client cannot grow the server's state without end.
const maxTracksPerParticipant = 16

// maxQueuedData bounds reliable packets held while a channel opens.
const maxQueuedData = 256

// wirePublisher routes the receiving side of pc to this participant.
func (p *participant) wirePublisher(t *transport, single bool) {
	t.pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		p.post(func() { p.onRemoteTrack(remote, recv) })
	})
	t.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		label := dc.Label()
		if label != reliableLabel && label != lossyLabel {
			return
		}
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			p.post(func() { p.onDataMessage(label, msg) })
		})
		if single {
			// On /rtc/v1 the client's own channels carry data both ways.
			p.setDataChannel(dc)
		}
	})
	t.pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		p.log.Debug("publisher ice", "state", s.String())
	})
}

// handleAddTrack answers AddTrackRequest with TrackPublishedResponse, or
// refuses it when the grants do not allow the source.
func (p *participant) handleAddTrack(req *livekit.AddTrackRequest) error {
	if req.Cid == "" {
		return fmt.Errorf("%w: add track without cid", ErrBadRequest)
	}
	if !canPublishSource(p.info.Permission, req.Source) {
		p.srv.metrics.permissionDenys.WithLabelValues("publish").Inc()
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{
			RequestResponse: &livekit.RequestResponse{Reason: livekit.RequestResponse_NOT_ALLOWED,
				Message: "canPublish not granted for this source",
				Request: &livekit.RequestResponse_AddTrack{AddTrack: req}}}})
		p.log.Info("publish refused", "source", req.Source.String())
		return nil
	}
	if _, dup := p.pending[req.Cid]; dup {
		return fmt.Errorf("%w: track %q already added", ErrBadRequest, req.Cid)
	}
	if len(p.pending)+len(p.published) >= maxTracksPerParticipant {
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{
			RequestResponse: &livekit.RequestResponse{Reason: livekit.RequestResponse_LIMIT_EXCEEDED,
				Message: "too many tracks", Request: &livekit.RequestResponse_AddTrack{AddTrack: req}}}})
		return nil
	}
	info := &livekit.TrackInfo{
		Sid: guid.New(guid.TrackPrefix), Type: req.Type, Name: req.Name, Muted: req.Muted,
		Width: req.Width, Height: req.Height, Source: req.Source, DisableRed: req.DisableRed,
		Encryption: req.Encryption, Stream: req.Stream, AudioFeatures: req.AudioFeatures,
	}
	// Deprecated in livekit_models.proto but still sent by server-sdk-go
	// v2 and read by clients to size simulcast layers.
	//lint:ignore SA1019 older clients only fill these
	info.Simulcast, info.Layers = len(req.Layers) > 1, req.Layers
	//lint:ignore SA1019 older clients only fill these
	info.DisableDtx, info.Stereo = req.DisableDtx, req.Stereo
	for _, c := range req.SimulcastCodecs {
		info.Codecs = append(info.Codecs, &livekit.SimulcastCodecInfo{MimeType: c.Codec, Cid: c.Cid, Layers: c.Layers})
	}
	p.pending[req.Cid] = info
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_TrackPublished{
		TrackPublished: &livekit.TrackPublishedResponse{Cid: req.Cid, Track: info}}})
	p.announceNegotiated() // an offer may have described it already
	return nil
}

// onRemoteTrack binds an incoming stream (or simulcast layer) to the
// track announced for it: the publication on the same m-section with the
// msid track id the client used as cid, else a pending AddTrack (by cid,
// else by kind), which is then published now.
func (p *participant) onRemoteTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := p.midOf(recv)
	pub := p.publicationOn(remote.ID(), mid)
	if pub != nil && !strings.EqualFold(pub.info.MimeType, remote.Codec().MimeType) {
		// The client sends another codec than the answer's first: publish
		// the track again, so subscribers negotiate the one that came.
		p.log.Info("track codec differs from the negotiated one; publishing it again", "track", pub.info.Sid,
			"announced", pub.info.MimeType, "received", remote.Codec().MimeType)
		info := proto.Clone(pub.info).(*livekit.TrackInfo)
		p.unpublish(pub.info.Sid)
		info.Sid = guid.New(guid.TrackPrefix)
		pub = p.announce(pub.cid, info, mid, remote.Kind(), remote.Codec())
	}
	if pub == nil {
		cid, info := p.matchPending(remote)
		if info == nil {
			p.log.Warn("media for a track never announced; ignoring", "track", remote.ID(), "kind", remote.Kind().String())
			return
		}
		delete(p.pending, cid)
		pub = p.announce(remote.ID(), info, mid, remote.Kind(), remote.Codec())
	}
	if err := pub.fwd.AddLayer(remote, recv); err != nil {
		p.log.Warn("add layer", "track", pub.info.Sid, "rid", remote.RID(), "err", err)
		return
	}
	p.log.Debug("track media bound", "track", pub.info.Sid, "rid", remote.RID())
}

// midOf finds the m-section a receiver belongs to.
func (p *participant) midOf(recv *webrtc.RTPReceiver) string {
	for _, tr := range p.pub.pc.GetTransceivers() {
		if tr.Receiver() == recv {
			return tr.Mid()
		}
	}
	return ""
}

// reapUnpublished unpublishes the tracks whose m-section the client's new
// offer no longer sends on: LiveKit clients unpublish by removing the
// sender and renegotiating (RFC 8829 §5.2.2 direction attributes).
func (p *participant) reapUnpublished(offer webrtc.SessionDescription) {
	parsed, err := offer.Unmarshal()
	if err != nil {
		return
	}
	sends := map[string]bool{}
	for _, m := range parsed.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		_, recvonly := m.Attribute("recvonly")
		_, inactive := m.Attribute("inactive")
		sends[mid] = !recvonly && !inactive && m.MediaName.Port.Value != 0
	}
	for sid, pub := range p.published {
		if pub.mid != "" && !sends[pub.mid] {
			p.unpublish(sid)
		}
	}
}

// unpublish removes one of this participant's tracks from the room.
func (p *participant) unpublish(sid string) {
	pub, ok := p.published[sid]
	if !ok {
		return
	}
	delete(p.published, sid)
	tracks := p.info.Tracks[:0]
	for _, t := range p.info.Tracks {
		if t.Sid != sid {
			tracks = append(tracks, t)
		}
	}
	p.info.Tracks = tracks
	p.log.Info("track unpublished", "track", sid)
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_TrackUnpublished{
		TrackUnpublished: &livekit.TrackUnpublishedResponse{TrackSid: sid}}})
	p.changed()
	fwd := pub.fwd
	p.room.post(func() { p.room.unpublish(sid, fwd) })
}

func (p *participant) matchPending(remote *webrtc.TrackRemote) (string, *livekit.TrackInfo) {
	if info, ok := p.pending[remote.ID()]; ok {
		return remote.ID(), info
	}
	want := livekit.TrackType_AUDIO
	if remote.Kind() == webrtc.RTPCodecTypeVideo {
		want = livekit.TrackType_VIDEO
	}
	for cid, info := range p.pending {
		if info.Type == want {
			return cid, info
		}
	}
	return "", nil
}

// subscribe adds a downtrack of t to this participant's sending connection.
func (p *participant) subscribe(t *roomTrack) {
	if p.leaving || !p.info.Permission.GetCanSubscribe() {
		return
	}
	if _, ok := p.subs[t.info.Sid]; ok {
		return
	}
	tr := p.sendTransport()
	down := t.fwd.NewDownTrack(p.sid, tr.est, tr.batch, tr.directPath())
	sender, err := tr.pc.AddTrack(down)
	if err != nil {
		_ = down.Close()
		p.log.Warn("add track to connection", "track", t.info.Sid, "err", err)
		return
	}
	if err := down.Attach(sender); err != nil {
		_ = down.Close()
		_ = tr.pc.RemoveTrack(sender)
		p.log.Warn("attach downtrack", "track", t.info.Sid, "err", err)
		return
	}
	p.subs[t.info.Sid] = &subscription{track: t, down: down, sender: sender}
	p.log.Debug("subscribed", "track", t.info.Sid)
	p.negotiationDue = true
}

func (p *participant) unsubscribe(sid string) {
	s, ok := p.subs[sid]
	if !ok {
		return
	}
	delete(p.subs, sid)
	s.track.fwd.RemoveDownTrack(p.sid)
	if err := p.sendTransport().pc.RemoveTrack(s.sender); err != nil {
		p.log.Debug("remove track", "err", err)
	}
	p.negotiationDue = true
}

func (p *participant) sendTransport() *transport {
	if p.sub != nil {
		return p.sub
	}
	return p.pub
}

// renegotiateSubscriber runs once per batch of work (see run), so a join
// that subscribes to several tracks costs one offer, not one per track.
func (p *participant) renegotiateSubscriber() {
	p.negotiationDue = false
	if p.sub != nil {
		if err := p.sub.negotiate(false); err != nil {
			p.log.Warn("subscriber negotiation", "err", err)
		}
		return
	}
	p.requestSections(true)
}

// requestSections asks a /rtc/v1 client to offer again, adding recvonly
// m-sections for downtracks that have none yet. The client is always the
// offerer on the single connection (livekit-client RTCEngine
// onMediaSectionsRequirement adds the sections, then negotiates). force
// asks for an offer even when no section is missing, e.g. to start sending
// on a section that is already there.
func (p *participant) requestSections(force bool) {
	if p.pub.pc.RemoteDescription() == nil {
		return // the client's first offer is still to come and will carry them
	}
	needA := max(p.pub.unassigned(webrtc.RTPCodecTypeAudio)-p.requested[0], 0)
	needV := max(p.pub.unassigned(webrtc.RTPCodecTypeVideo)-p.requested[1], 0)
	if !force && needA == 0 && needV == 0 {
		return
	}
	p.requested[0] += needA
	p.requested[1] += needV
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_MediaSectionsRequirement{
		MediaSectionsRequirement: &livekit.MediaSectionsRequirement{NumAudios: uint32(needA), NumVideos: uint32(needV)}}})
}

// deliverData sends a relayed packet, holding reliable ones while the
// channel opens.
func (p *participant) deliverData(kind livekit.DataPacket_Kind, b []byte) {
	p.dataMu.Lock()
	dc := p.dataReliable
	if kind == livekit.DataPacket_LOSSY {
		dc = p.dataLossy
	}
	p.dataMu.Unlock()
	if dc != nil && dc.ReadyState() == webrtc.DataChannelStateOpen && len(p.pendingData) == 0 {
		if err := dc.Send(b); err == nil {
			p.srv.metrics.dataPackets.WithLabelValues(kindLabel(kind)).Inc()
		}
		return
	}
	if kind == livekit.DataPacket_RELIABLE && len(p.pendingData) < maxQueuedData {
		p.pendingData = append(p.pendingData, queuedData{kind: kind, b: b})
	}
}

func (p *participant) flushData() {
	q := p.pendingData
	p.pendingData = nil
	for i, d := range q {
		p.deliverData(d.kind, d.b)
		if len(p.pendingData) > 0 { // still not open: keep the rest in order
			p.pendingData = append(p.pendingData, q[i+1:]...)
			return
		}
	}
}

func kindLabel(k livekit.DataPacket_Kind) string {
	if k == livekit.DataPacket_LOSSY {
		return "lossy"
	}
	return "reliable"
}

// decodeDataPacket parses a client's data channel message.
func decodeDataPacket(text bool, b []byte) (*livekit.DataPacket, error) {
	dp := &livekit.DataPacket{}
	var err error
	if text {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, dp)
	} else {
		err = proto.Unmarshal(b, dp)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: data packet: %v", ErrBadRequest, err)
	}
	return dp, nil
}

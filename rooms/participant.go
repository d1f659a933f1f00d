package rooms

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// participant is one client in a room. Its peer connections, tracks and
// subscriptions are owned by run; other goroutines post work to box.
type participant struct {
	room     *Room
	srv      *Server
	sid      string
	identity string
	singlePC bool
	log      *slog.Logger
	box      *mailbox
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	conn     atomic.Pointer[signalConn]

	// dataOut holds the channels we send data packets on.
	dataMu       sync.Mutex
	dataReliable *webrtc.DataChannel
	dataLossy    *webrtc.DataChannel

	// owned by run
	info          *livekit.ParticipantInfo
	autoSubscribe bool
	pub           *transport                    // answerer: classic publisher or the single PC
	sub           *transport                    // classic only: offerer
	pending       map[string]*livekit.TrackInfo // by client track id (cid)
	published     map[string]*publication       // by track SID
	subs          map[string]*subscription      // by track SID
	pendingData   []queuedData
	requested     [2]int // single PC: sections asked for, audio/video
	// negotiationDue asks run to renegotiate the sending side once the
	// current batch of work is done.
	negotiationDue bool
	graceTimer     *time.Timer
	leaving        bool
	// metaLimiter is this participant's bucket for its own metadata updates.
	metaLimiter *rate.Limiter
}

type publication struct {
	info *livekit.TrackInfo
	cid  string // the client's track id (msid), shared by simulcast layers
	mid  string // the m-section the media arrives on
	fwd  trackForwarder
}

type subscription struct {
	track  *roomTrack
	down   downTrack
	sender *webrtc.RTPSender
}

type queuedData struct {
	kind livekit.DataPacket_Kind
	b    []byte
}

// joinParams is what a join request carries besides the token.
type joinParams struct {
	grants        *auth.ClaimGrants
	singlePC      bool
	autoSubscribe bool
	metadata      string
	attributes    map[string]string
	clientInfo    *livekit.ClientInfo
}

// joinState is a joiner's name, metadata and attributes: the token's,
// overridden by the join request's only when the grant has
// canUpdateOwnMetadata (as LiveKit does), and never for identity-bearing
// attributes, which come from the token alone. ignored reports that the
// request carried something that was not applied.
func joinState(jp joinParams) (name, metadata string, attrs map[string]string, ignored bool) {
	g := jp.grants
	name, metadata = g.Name, g.Metadata
	attrs = maps.Clone(g.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	mayUpdate := g.Video.GetCanUpdateOwnMetadata()
	if jp.metadata != "" {
		if mayUpdate {
			metadata = jp.metadata
		} else {
			ignored = true
		}
	}
	for k, v := range jp.attributes {
		if !mayUpdate || roomconv.IsTokenOnlyAttribute(k) {
			ignored = true
			continue
		}
		attrs[k] = v
	}
	return name, metadata, attrs, ignored
}

func newParticipant(srv *Server, room *Room, jp joinParams, sid string) *participant {
	g := jp.grants
	name, meta, attrs, _ := joinState(jp)
	now := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	lim := srv.cfg.Limit
	p := &participant{
		room: room, srv: srv, sid: sid, identity: g.Identity, singlePC: jp.singlePC,
		log: srv.log.With("room", room.name, "participant", g.Identity),
		box: newMailbox(), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		autoSubscribe: jp.autoSubscribe,
		pending:       map[string]*livekit.TrackInfo{},
		published:     map[string]*publication{},
		subs:          map[string]*subscription{},
		metaLimiter:   rate.NewLimiter(rate.Limit(lim.MetadataPerSecondPerParticipant), lim.MetadataBurstPerParticipant),
		info: &livekit.ParticipantInfo{
			Sid: sid, Identity: g.Identity, Name: name, Metadata: meta, Attributes: attrs,
			State: livekit.ParticipantInfo_JOINED, JoinedAt: now.Unix(), JoinedAtMs: now.UnixMilli(),
			Version: 1, Permission: permissionFromGrants(g.Video), Kind: g.GetParticipantKind(),
		},
	}
	return p
}

// watchConnected makes the participant ACTIVE once t's peer connection is
// up (DTLS done), as LiveKit reports it (livekit_models.proto
// ParticipantInfo.State: "participant has connected" after JOINED).
func (p *participant) watchConnected(t *transport) {
	t.pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.post(p.markActive)
		}
	})
}

// markActive moves JOINED to ACTIVE once and tells the room.
func (p *participant) markActive() {
	if p.leaving || p.info.State != livekit.ParticipantInfo_JOINED {
		return
	}
	p.info.State = livekit.ParticipantInfo_ACTIVE
	p.changed()
}

// post queues fn on the participant's goroutine.
func (p *participant) post(fn func()) { p.box.push(fn) }

// send writes a signal message to the current connection, if any.
func (p *participant) send(msg *livekit.SignalResponse) {
	if c := p.conn.Load(); c != nil {
		c.send(msg)
	}
}

func (p *participant) infoClone() *livekit.ParticipantInfo {
	return proto.Clone(p.info).(*livekit.ParticipantInfo)
}

// changed bumps the info version (clients drop updates whose version is
// not newer) and hands a copy to the room for broadcast.
func (p *participant) changed() {
	p.info.Version++
	info := p.infoClone()
	p.room.post(func() { p.room.memberChanged(p, info) })
}

// run owns the participant until it leaves or the room closes.
func (p *participant) run() {
	defer close(p.done)
	for {
		select {
		case <-p.ctx.Done():
			p.teardown(p.room.reason())
			return
		case <-p.box.wake:
			for _, fn := range p.box.drain() {
				fn()
			}
			if p.leaving {
				return
			}
			if p.negotiationDue {
				p.renegotiateSubscriber()
			}
		}
	}
}

// setupTransports creates the peer connections for this participant's mode.
func (p *participant) setupTransports() error {
	api := p.srv.media
	if p.singlePC {
		// A listener's connection never receives media: it is built
		// without the receive-side interceptors. A publish grant added
		// later still works on it, without NACKs or TWCC feedback.
		receives := p.info.GetPermission().GetCanPublish()
		t, err := newTransport(api, livekit.SignalTarget_PUBLISHER, false, receives, p.send, p.log.With("pc", "single"))
		if err != nil {
			return err
		}
		p.pub = t
		p.wirePublisher(t, true)
		p.watchConnected(t)
		return nil
	}
	pub, err := newTransport(api, livekit.SignalTarget_PUBLISHER, false, true, p.send, p.log.With("pc", "publisher"))
	if err != nil {
		return err
	}
	p.pub = pub
	p.wirePublisher(pub, false)
	p.watchConnected(pub)
	sub, err := newTransport(api, livekit.SignalTarget_SUBSCRIBER, true, false, p.send, p.log.With("pc", "subscriber"))
	if err != nil {
		_ = pub.close()
		return err
	}
	p.sub = sub
	p.watchConnected(sub)
	ordered, unordered, none := true, false, uint16(0)
	rel, err := sub.pc.CreateDataChannel(reliableLabel, &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		return err
	}
	lossy, err := sub.pc.CreateDataChannel(lossyLabel, &webrtc.DataChannelInit{Ordered: &unordered, MaxRetransmits: &none})
	if err != nil {
		return err
	}
	p.setDataChannel(rel)
	p.setDataChannel(lossy)
	sub.pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		p.log.Debug("subscriber ice", "state", s.String())
	})
	return nil
}

// LiveKit's data channel labels (livekit-client DataChannelManager).
const (
	reliableLabel = "_reliable"
	lossyLabel    = "_lossy"
)

func (p *participant) setDataChannel(dc *webrtc.DataChannel) {
	p.dataMu.Lock()
	switch dc.Label() {
	case reliableLabel:
		p.dataReliable = dc
	case lossyLabel:
		p.dataLossy = dc
	}
	p.dataMu.Unlock()
	dc.OnOpen(func() { p.post(p.flushData) })
}

// teardown closes the connections and leaves the room.
func (p *participant) teardown(reason livekit.DisconnectReason) {
	if p.graceTimer != nil {
		p.graceTimer.Stop()
	}
	if c := p.conn.Swap(nil); c != nil {
		c.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{
			Reason: reason, Action: livekit.LeaveRequest_DISCONNECT}}})
		c.flushAndClose("leave")
	}
	for sid, s := range p.subs {
		s.track.fwd.RemoveDownTrack(p.sid)
		delete(p.subs, sid)
	}
	if p.pub != nil {
		_ = p.pub.close()
	}
	if p.sub != nil {
		_ = p.sub.close()
	}
	pubs := p.published
	p.published = map[string]*publication{}
	p.room.post(func() { p.room.memberLeft(p, pubs) })
}

// leave ends the participant from its own goroutine.
func (p *participant) leave(reason livekit.DisconnectReason) {
	if p.leaving {
		return
	}
	p.leaving = true
	p.log.Info("participant leaving", "reason", reason.String())
	p.teardown(reason)
	p.cancel()
}

// connLost starts the resume grace period for a dropped signal connection.
func (p *participant) connLost(c *signalConn) {
	if !p.conn.CompareAndSwap(c, nil) || p.leaving {
		return
	}
	grace := p.srv.cfg.ReconnectGrace
	p.log.Info("signal connection lost, waiting for resume", "grace", grace)
	if p.graceTimer != nil {
		p.graceTimer.Stop()
	}
	p.graceTimer = time.AfterFunc(grace, func() {
		p.post(func() {
			if p.conn.Load() == nil {
				p.leave(livekit.DisconnectReason_SIGNAL_CLOSE)
			}
		})
	})
}

// resume attaches a new signal connection after a network change: the
// ReconnectResponse must be its first message (livekit-client
// SignalClient.validateFirstMessage).
func (p *participant) resume(c *signalConn) {
	if p.leaving {
		c.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{
			Reason: livekit.DisconnectReason_STATE_MISMATCH, Action: livekit.LeaveRequest_RECONNECT}}})
		c.flushAndClose("participant gone")
		return
	}
	if p.graceTimer != nil {
		p.graceTimer.Stop()
	}
	if old := p.conn.Swap(c); old != nil {
		old.flushAndClose("replaced by resume")
	}
	c.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Reconnect{Reconnect: &livekit.ReconnectResponse{
		ServerInfo: p.srv.serverInfo(), IceServers: p.srv.turn.iceServers(p.sid, time.Now())}}})
	p.room.post(func() { p.room.sendSnapshot(p) })
	if p.sub != nil && p.sub.pc.ICEConnectionState() != webrtc.ICEConnectionStateConnected {
		if err := p.sub.negotiate(true); err != nil {
			p.log.Warn("subscriber ice restart failed", "err", err)
		}
	}
	p.log.Info("participant resumed")
}

// teardownTransports closes the peer connections of a participant that
// never made it into the room.
func (p *participant) teardownTransports() {
	if p.pub != nil {
		_ = p.pub.close()
	}
	if p.sub != nil {
		_ = p.sub.close()
	}
	p.cancel()
}

// do runs fn on the participant's goroutine and waits for it.
func (p *participant) do(ctx context.Context, fn func()) error {
	ran := make(chan struct{})
	p.post(func() { fn(); close(ran) })
	select {
	case <-ran:
		return nil
	case <-p.done:
		return ErrParticipantNotFound
	case <-ctx.Done():
		return ctx.Err()
	}
}

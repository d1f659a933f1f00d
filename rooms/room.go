package rooms

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/utils/guid"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
)

// Room is one party's room. Its membership and track index are owned by
// run; everything else reaches them through post (fire and forget) or do
// (wait for the result).
type Room struct {
	name string
	srv  *Server
	log  *slog.Logger
	box  *mailbox
	ctx  context.Context
	stop context.CancelFunc
	done chan struct{}
	wg   sync.WaitGroup // participants and forwarder closers
	// closeReason tells participants why the room closed.
	closeReason atomic.Int32
	// metaLimiter bounds all participants' own metadata updates together;
	// rate.Limiter is safe to use from their goroutines.
	metaLimiter *rate.Limiter

	// owned by run
	info    *livekit.Room
	members map[string]*member // by identity
	tracks  map[string]*roomTrack
	emptyAt time.Time
	// joined is set once someone has joined: from then on an empty room
	// closes after DepartureTimeout instead of EmptyTimeout (LiveKit's
	// CreateRoomRequest semantics).
	joined bool
	// joinLimiter and identityJoins bound new joins to the room.
	joinLimiter   *rate.Limiter
	identityJoins *identityLimiter
}

type member struct {
	p    *participant
	info *livekit.ParticipantInfo
}

// roomTrack is a published track as the room indexes it.
type roomTrack struct {
	info      *livekit.TrackInfo
	publisher *participant
	fwd       trackForwarder
}

func newRoom(srv *Server, name string, opts *livekit.CreateRoomRequest) *Room {
	ctx, stop := context.WithCancel(context.Background())
	now := time.Now()
	lim := srv.cfg.Limit
	r := &Room{
		name: name, srv: srv, log: srv.log.With("room", name), box: newMailbox(),
		ctx: ctx, stop: stop, done: make(chan struct{}),
		members: map[string]*member{}, tracks: map[string]*roomTrack{}, emptyAt: now,
		info: &livekit.Room{Sid: guid.New(guid.RoomPrefix), Name: name, CreationTime: now.Unix(),
			CreationTimeMs: now.UnixMilli(), EmptyTimeout: uint32(srv.cfg.EmptyTimeout / time.Second),
			MaxParticipants: uint32(srv.cfg.MaxParticipants), EnabledCodecs: enabledCodecs()},
		metaLimiter:   rate.NewLimiter(rate.Limit(lim.MetadataPerSecondPerRoom), lim.MetadataBurstPerRoom),
		joinLimiter:   rate.NewLimiter(rate.Limit(lim.JoinsPerSecondPerRoom), lim.JoinBurstPerRoom),
		identityJoins: newIdentityLimiter(lim.JoinsPerSecondPerParticipant, lim.JoinBurstPerParticipant),
	}
	if opts != nil {
		r.info.Metadata = opts.Metadata
		if opts.EmptyTimeout > 0 {
			r.info.EmptyTimeout = opts.EmptyTimeout
		}
		if opts.MaxParticipants > 0 {
			r.info.MaxParticipants = opts.MaxParticipants
		}
		r.info.DepartureTimeout = opts.DepartureTimeout
	}
	if r.info.DepartureTimeout == 0 {
		// Unasked, the room waits as long after its last member left as
		// it waits for a first one.
		r.info.DepartureTimeout = r.info.EmptyTimeout
	}
	go r.run()
	return r
}

// Name is the room's name, unique within a Registry.
func (r *Room) Name() string { return r.name }

func (r *Room) post(fn func()) { r.box.push(fn) }

// do runs fn on the room goroutine and waits for it.
func (r *Room) do(ctx context.Context, fn func()) error {
	ran := make(chan struct{})
	r.post(func() { fn(); close(ran) })
	select {
	case <-ran:
		return nil
	case <-r.done:
		return ErrRoomClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Room) run() {
	defer close(r.done)
	r.srv.metrics.rooms.Inc()
	defer r.srv.metrics.rooms.Dec()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.ctx.Done():
			r.shutdown()
			return
		case <-tick.C:
			timeout := r.info.EmptyTimeout
			if r.joined {
				timeout = r.info.DepartureTimeout
			}
			if len(r.members) == 0 && time.Since(r.emptyAt) > time.Duration(timeout)*time.Second {
				r.log.Info("closing empty room")
				r.srv.registry.Remove(r)
				r.shutdown()
				return
			}
		case <-r.box.wake:
			for _, fn := range r.box.drain() {
				fn()
			}
		}
	}
}

// shutdown disconnects everyone and waits for their goroutines.
func (r *Room) shutdown() {
	for _, m := range r.members {
		m.p.cancel()
	}
	r.members = map[string]*member{}
	// Participants post memberLeft while stopping; run those to close the
	// forwarders, then wait.
	r.wg.Wait()
	for _, fn := range r.box.drain() {
		fn()
	}
	r.wg.Wait()
}

// Close disconnects every participant and waits for all goroutines.
func (r *Room) Close() { r.closeWith(livekit.DisconnectReason_ROOM_CLOSED) }

// closeWith is Close with the reason participants are given (the first
// reason wins).
func (r *Room) closeWith(reason livekit.DisconnectReason) {
	r.closeReason.CompareAndSwap(0, int32(reason))
	r.stop()
	<-r.done
}

func (r *Room) reason() livekit.DisconnectReason {
	if v := r.closeReason.Load(); v != 0 {
		return livekit.DisconnectReason(v)
	}
	return livekit.DisconnectReason_ROOM_CLOSED
}

// join admits p, replacing an older participant with the same identity,
// and returns what the JoinResponse needs.
func (r *Room) join(p *participant) (*livekit.Room, []*livekit.ParticipantInfo, error) {
	now := time.Now()
	if !r.identityJoins.allow(p.identity, now) || !r.joinLimiter.AllowN(now, 1) {
		r.srv.metrics.limitRefusals.WithLabelValues("join_rate").Inc()
		return nil, nil, fmt.Errorf("%w: joins to room %q come too fast; retry in a few seconds", ErrRateLimited, r.name)
	}
	if old, ok := r.members[p.identity]; ok {
		r.log.Info("duplicate identity: replacing participant", "participant", p.identity)
		old.p.post(func() { old.p.leave(livekit.DisconnectReason_DUPLICATE_IDENTITY) })
		delete(r.members, p.identity)
		r.broadcastLeft(old)
	}
	if r.info.MaxParticipants > 0 && len(r.members) >= int(r.info.MaxParticipants) {
		return nil, nil, ErrRoomFull
	}
	var others []*livekit.ParticipantInfo
	for _, m := range r.members {
		if !m.info.Permission.GetHidden() {
			others = append(others, proto.Clone(m.info).(*livekit.ParticipantInfo))
		}
	}
	m := &member{p: p, info: p.infoClone()}
	r.members[p.identity] = m
	r.joined = true
	r.wg.Add(1)
	r.srv.metrics.participants.Inc()
	go func() {
		defer r.wg.Done()
		<-p.done
	}()
	r.broadcast(m, m.info)
	if p.autoSubscribe && p.info.Permission.GetCanSubscribe() {
		for _, t := range r.tracks {
			p.post(func() { p.subscribe(t) })
		}
	}
	r.updateCounts()
	return proto.Clone(r.info).(*livekit.Room), others, nil
}

// memberChanged stores a participant's new info and tells the others.
func (r *Room) memberChanged(p *participant, info *livekit.ParticipantInfo) {
	m, ok := r.members[p.identity]
	if !ok || m.p != p {
		return
	}
	m.info = info
	r.broadcast(m, info)
}

// broadcast sends a participant update to everyone (the participant too:
// clients apply their own permission and metadata changes from it), except
// that hidden participants are shown to nobody but themselves.
func (r *Room) broadcast(from *member, info *livekit.ParticipantInfo) {
	for _, m := range r.members {
		if m != from && info.Permission.GetHidden() {
			continue
		}
		m.p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Update{
			Update: &livekit.ParticipantUpdate{Participants: []*livekit.ParticipantInfo{info}}}})
	}
}

func (r *Room) broadcastLeft(m *member) {
	info := proto.Clone(m.info).(*livekit.ParticipantInfo)
	info.State = livekit.ParticipantInfo_DISCONNECTED
	info.Version++
	r.broadcast(nil, info)
}

// memberLeft removes p and its tracks; it runs after p closed its
// connections, so the forwarders' readers have ended.
func (r *Room) memberLeft(p *participant, pubs map[string]*publication) {
	if m, ok := r.members[p.identity]; ok && m.p == p {
		delete(r.members, p.identity)
		r.broadcastLeft(m)
	}
	r.srv.metrics.participants.Dec()
	for sid, pub := range pubs {
		r.unpublish(sid, pub.fwd)
	}
	if len(r.members) == 0 {
		r.emptyAt = time.Now()
	}
	r.updateCounts()
}

func (r *Room) unpublish(sid string, fwd trackForwarder) {
	if t, ok := r.tracks[sid]; ok {
		delete(r.tracks, sid)
		r.srv.metrics.tracks.WithLabelValues(kindName(t.info.Type)).Dec()
		for _, m := range r.members {
			sub := m.p
			sub.post(func() { sub.unsubscribe(sid) })
		}
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = fwd.Close()
	}()
}

// trackPublished indexes a track its publisher announced and negotiated
// (its media may not flow yet) and subscribes the auto-subscribing members.
func (r *Room) trackPublished(t *roomTrack) {
	if m, ok := r.members[t.publisher.identity]; !ok || m.p != t.publisher {
		r.unpublish(t.info.Sid, t.fwd)
		return
	}
	r.tracks[t.info.Sid] = t
	r.srv.metrics.tracks.WithLabelValues(kindName(t.info.Type)).Inc()
	for _, m := range r.members {
		if m.p == t.publisher || !m.p.autoSubscribe || !m.info.Permission.GetCanSubscribe() {
			continue
		}
		sub := m.p
		sub.post(func() { sub.subscribe(t) })
	}
	r.updateCounts()
}

// relayData forwards a data packet to the other members, or only to its
// destination identities when it names any.
func (r *Room) relayData(from *participant, dp *livekit.DataPacket, kind livekit.DataPacket_Kind) {
	var identity, sid string
	if from != nil {
		identity, sid = from.identity, from.sid
	}
	dp.ParticipantIdentity = identity
	dp.ParticipantSid = sid
	//lint:ignore SA1019 clients still read the kind here
	dp.Kind = kind
	dests := dp.DestinationIdentities
	if u := dp.GetUser(); u != nil {
		// Older clients read and write these deprecated UserPacket fields.
		//lint:ignore SA1019 compatibility
		u.ParticipantIdentity, u.ParticipantSid = identity, sid
		if len(dests) == 0 {
			//lint:ignore SA1019 compatibility
			dests = u.DestinationIdentities
		}
	}
	b, err := proto.Marshal(dp)
	if err != nil {
		return
	}
	for id, m := range r.members {
		if m.p == from || (len(dests) > 0 && !contains(dests, id)) {
			continue
		}
		to := m.p
		to.post(func() { to.deliverData(kind, b) })
	}
}

func (r *Room) updateCounts() {
	var pubs uint32
	for _, m := range r.members {
		if m.info.IsPublisher {
			pubs++
		}
	}
	r.info.NumParticipants = uint32(len(r.members))
	r.info.NumPublishers = pubs
}

// setMetadata changes the room metadata and tells every member.
func (r *Room) setMetadata(md string) *livekit.Room {
	r.info.Metadata = md
	info := proto.Clone(r.info).(*livekit.Room)
	for _, m := range r.members {
		m.p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RoomUpdate{
			RoomUpdate: &livekit.RoomUpdate{Room: info}}})
	}
	return info
}

// sendSnapshot re-sends the current participants to a resumed client.
func (r *Room) sendSnapshot(p *participant) {
	var infos []*livekit.ParticipantInfo
	for _, m := range r.members {
		if m.p == p || !m.info.Permission.GetHidden() {
			infos = append(infos, m.info)
		}
	}
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Update{
		Update: &livekit.ParticipantUpdate{Participants: infos}}})
}

func (r *Room) member(identity string) (*member, error) {
	m, ok := r.members[identity]
	if !ok {
		return nil, fmt.Errorf("%w: %q in room %q", ErrParticipantNotFound, identity, r.name)
	}
	return m, nil
}

func kindName(t livekit.TrackType) string {
	if t == livekit.TrackType_VIDEO {
		return "video"
	}
	return "audio"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

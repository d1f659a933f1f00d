package rooms

import (
	"context"
	"errors"
	"net/http"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
	"google.golang.org/protobuf/proto"
)

type grantsKey struct{}

// roomService implements LiveKit's RoomService (livekit_room.proto) over
// Twirp, with the same grants LiveKit checks: roomCreate for create and
// delete, roomList for list, roomAdmin on the named room for the rest.
type roomService struct{ s *Server }

func (s *Server) roomServiceHandler() http.Handler {
	h := livekit.NewRoomServiceServer(roomService{s}, twirp.WithServerPathPrefix("/twirp"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grants, err := s.auth.verify(tokenFromRequest(r))
		if err != nil {
			writeTwirpError(w, twirp.NewError(twirp.Unauthenticated, err.Error()))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), grantsKey{}, grants)))
	})
}

func writeTwirpError(w http.ResponseWriter, err twirp.Error) {
	_ = twirp.WriteError(w, err)
}

func grantsFrom(ctx context.Context) *auth.ClaimGrants {
	g, _ := ctx.Value(grantsKey{}).(*auth.ClaimGrants)
	if g == nil {
		g = &auth.ClaimGrants{Video: &auth.VideoGrant{}}
	}
	return g
}

func (rs roomService) denied(action string) error {
	rs.s.metrics.permissionDenys.WithLabelValues("admin").Inc()
	return twirp.NewError(twirp.PermissionDenied, "token lacks the "+action+" grant")
}

func (rs roomService) requireAdmin(ctx context.Context, room string) error {
	v := grantsFrom(ctx).Video
	if !v.RoomAdmin || (v.Room != "" && v.Room != room) {
		return rs.denied("roomAdmin")
	}
	return nil
}

// checkRoom refuses a room name or metadata over the size limits.
func (rs roomService) checkRoom(name, metadata string) error {
	what, err := rs.s.cfg.Limit.checkRoom(name, metadata)
	if err != nil {
		rs.s.metrics.limitRefusals.WithLabelValues(what).Inc()
		return toTwirp(err)
	}
	return nil
}

// toTwirp maps package errors to Twirp codes.
func toTwirp(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRoomNotFound), errors.Is(err, ErrParticipantNotFound), errors.Is(err, ErrTrackNotFound):
		return twirp.NewError(twirp.NotFound, err.Error())
	case errors.Is(err, ErrRoomClosed):
		return twirp.NewError(twirp.Unavailable, err.Error())
	case errors.Is(err, ErrLimitExceeded):
		return twirp.NewError(twirp.InvalidArgument, err.Error())
	default:
		return twirp.InternalErrorWith(err)
	}
}

func (rs roomService) CreateRoom(ctx context.Context, req *livekit.CreateRoomRequest) (*livekit.Room, error) {
	if !grantsFrom(ctx).Video.RoomCreate {
		return nil, rs.denied("roomCreate")
	}
	if req.Name == "" {
		return nil, twirp.RequiredArgumentError("name")
	}
	if err := rs.checkRoom(req.Name, req.Metadata); err != nil {
		return nil, err
	}
	r, created := rs.s.registry.LoadOrCreate(req.Name, func() *Room { return newRoom(rs.s, req.Name, req) })
	var info *livekit.Room
	err := r.do(ctx, func() {
		if !created && req.Metadata != "" {
			r.info.Metadata = req.Metadata
		}
		info = proto.Clone(r.info).(*livekit.Room)
	})
	return info, toTwirp(err)
}

func (rs roomService) ListRooms(ctx context.Context, req *livekit.ListRoomsRequest) (*livekit.ListRoomsResponse, error) {
	if !grantsFrom(ctx).Video.RoomList {
		return nil, rs.denied("roomList")
	}
	out := &livekit.ListRoomsResponse{}
	for _, r := range rs.s.registry.List() {
		if len(req.Names) > 0 && !contains(req.Names, r.name) {
			continue
		}
		_ = r.do(ctx, func() { out.Rooms = append(out.Rooms, proto.Clone(r.info).(*livekit.Room)) })
	}
	return out, nil
}

func (rs roomService) DeleteRoom(ctx context.Context, req *livekit.DeleteRoomRequest) (*livekit.DeleteRoomResponse, error) {
	if !grantsFrom(ctx).Video.RoomCreate {
		return nil, rs.denied("roomCreate")
	}
	r, err := rs.s.registry.Room(req.Room)
	if err != nil {
		return nil, toTwirp(err)
	}
	rs.s.registry.Remove(r)
	r.closeWith(livekit.DisconnectReason_ROOM_DELETED)
	return &livekit.DeleteRoomResponse{}, nil
}

// withRoom runs fn on the named room's goroutine after the admin check.
func (rs roomService) withRoom(ctx context.Context, name string, fn func(r *Room) error) error {
	if err := rs.requireAdmin(ctx, name); err != nil {
		return err
	}
	r, err := rs.s.registry.Room(name)
	if err != nil {
		return toTwirp(err)
	}
	var ferr error
	if err := r.do(ctx, func() { ferr = fn(r) }); err != nil {
		return toTwirp(err)
	}
	return toTwirp(ferr)
}

func (rs roomService) ListParticipants(ctx context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error) {
	out := &livekit.ListParticipantsResponse{}
	err := rs.withRoom(ctx, req.Room, func(r *Room) error {
		for _, m := range r.members {
			out.Participants = append(out.Participants, proto.Clone(m.info).(*livekit.ParticipantInfo))
		}
		return nil
	})
	return out, err
}

// participant finds a member's participant on the room goroutine.
func (rs roomService) participant(ctx context.Context, room, identity string) (*participant, error) {
	var p *participant
	err := rs.withRoom(ctx, room, func(r *Room) error {
		m, err := r.member(identity)
		if err == nil {
			p = m.p
		}
		return err
	})
	return p, err
}

func (rs roomService) GetParticipant(ctx context.Context, req *livekit.RoomParticipantIdentity) (*livekit.ParticipantInfo, error) {
	var info *livekit.ParticipantInfo
	err := rs.withRoom(ctx, req.Room, func(r *Room) error {
		m, err := r.member(req.Identity)
		if err == nil {
			info = proto.Clone(m.info).(*livekit.ParticipantInfo)
		}
		return err
	})
	return info, err
}

func (rs roomService) RemoveParticipant(ctx context.Context, req *livekit.RoomParticipantIdentity) (*livekit.RemoveParticipantResponse, error) {
	p, err := rs.participant(ctx, req.Room, req.Identity)
	if err != nil {
		return nil, err
	}
	if err := p.do(ctx, func() { p.leave(livekit.DisconnectReason_PARTICIPANT_REMOVED) }); err != nil {
		return nil, toTwirp(err)
	}
	return &livekit.RemoveParticipantResponse{}, nil
}

func (rs roomService) UpdateParticipant(ctx context.Context, req *livekit.UpdateParticipantRequest) (*livekit.ParticipantInfo, error) {
	p, err := rs.participant(ctx, req.Room, req.Identity)
	if err != nil {
		return nil, err
	}
	var info *livekit.ParticipantInfo
	var aerr error
	err = p.do(ctx, func() {
		// Sizes first, so a refused update changes nothing.
		if aerr = p.applyMetadata(req.Name, req.Metadata, req.Attributes); aerr != nil {
			return
		}
		if req.Permission != nil {
			p.setPermission(req.Permission)
		}
		info = p.infoClone()
	})
	if err == nil {
		err = aerr
	}
	if err != nil {
		return nil, toTwirp(err)
	}
	return info, nil
}

func (rs roomService) MutePublishedTrack(ctx context.Context, req *livekit.MuteRoomTrackRequest) (*livekit.MuteRoomTrackResponse, error) {
	p, err := rs.participant(ctx, req.Room, req.Identity)
	if err != nil {
		return nil, err
	}
	var info *livekit.TrackInfo
	err = p.do(ctx, func() {
		pub, ok := p.published[req.TrackSid]
		if !ok {
			return
		}
		p.setMuted(pub.info, req.Muted)
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Mute{
			Mute: &livekit.MuteTrackRequest{Sid: req.TrackSid, Muted: req.Muted}}})
		info = proto.Clone(pub.info).(*livekit.TrackInfo)
	})
	if err == nil && info == nil {
		err = ErrTrackNotFound
	}
	if err != nil {
		return nil, toTwirp(err)
	}
	return &livekit.MuteRoomTrackResponse{Track: info}, nil
}

func (rs roomService) SendData(ctx context.Context, req *livekit.SendDataRequest) (*livekit.SendDataResponse, error) {
	err := rs.withRoom(ctx, req.Room, func(r *Room) error {
		dests := append([]string(nil), req.DestinationIdentities...)
		//lint:ignore SA1019 still sent by older SDKs
		sids := req.DestinationSids
		for _, m := range r.members {
			if contains(sids, m.p.sid) {
				dests = append(dests, m.p.identity)
			}
		}
		dp := &livekit.DataPacket{DestinationIdentities: dests, Value: &livekit.DataPacket_User{User: &livekit.UserPacket{
			Payload: req.Data, Topic: req.Topic, Nonce: req.Nonce}}}
		r.relayData(nil, dp, req.Kind)
		return nil
	})
	return &livekit.SendDataResponse{}, err
}

func (rs roomService) UpdateRoomMetadata(ctx context.Context, req *livekit.UpdateRoomMetadataRequest) (*livekit.Room, error) {
	if err := rs.checkRoom(req.Room, req.Metadata); err != nil {
		return nil, err
	}
	var info *livekit.Room
	err := rs.withRoom(ctx, req.Room, func(r *Room) error {
		info = r.setMetadata(req.Metadata)
		return nil
	})
	return info, err
}

func (rs roomService) UpdateSubscriptions(context.Context, *livekit.UpdateSubscriptionsRequest) (*livekit.UpdateSubscriptionsResponse, error) {
	return nil, twirp.NewError(twirp.Unimplemented, "UpdateSubscriptions is not supported")
}

func (rs roomService) ForwardParticipant(context.Context, *livekit.ForwardParticipantRequest) (*livekit.ForwardParticipantResponse, error) {
	return nil, twirp.NewError(twirp.Unimplemented, "ForwardParticipant is not supported")
}

func (rs roomService) MoveParticipant(context.Context, *livekit.MoveParticipantRequest) (*livekit.MoveParticipantResponse, error) {
	return nil, twirp.NewError(twirp.Unimplemented, "MoveParticipant is not supported")
}

func (rs roomService) PerformRpc(context.Context, *livekit.PerformRpcRequest) (*livekit.PerformRpcResponse, error) {
	return nil, twirp.NewError(twirp.Unimplemented, "PerformRpc is not supported")
}

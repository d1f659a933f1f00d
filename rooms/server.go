package rooms

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/utils/guid"
	"github.com/marquee-party/marquee/rooms/forward"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"
)

// ServerVersion is the LiveKit server version we announce; livekit-client
// gates some features on it, and we implement that protocol level.
const ServerVersion = "1.9.1"

// serverProtocol is the signal protocol version we speak (ServerInfo).
const serverProtocol = 16

// Params configures a Server.
type Params struct {
	Config     Config
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Registry holds the rooms; nil means a new in-memory one.
	Registry Registry
	// NodeID names this node in ServerInfo.
	NodeID string
}

// Server is the SFU: an http.Handler for signalling and the RoomService.
type Server struct {
	cfg        Config
	log        *slog.Logger
	metrics    *metrics
	media      *mediaAPI
	turn       *turnRelay // nil: no relay (turn.enabled)
	auth       authenticator
	registry   Registry
	nodeID     string
	twirp      http.Handler
	fwdMetrics *forward.Metrics

	ctx    context.Context
	cancel context.CancelFunc
	conns  sync.WaitGroup
}

// NewServer opens the media socket and builds the handler.
func NewServer(p Params) (*Server, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Registry == nil {
		p.Registry = NewMemoryRegistry()
	}
	if p.Config.SignalKeepalive == 0 {
		p.Config.SignalKeepalive = DefaultConfig().SignalKeepalive
	}
	if p.Config.EmptyTimeout == 0 {
		p.Config.EmptyTimeout = DefaultConfig().EmptyTimeout
	}
	if p.NodeID == "" {
		p.NodeID = guid.New("ND_")
	}
	media, err := newMediaAPI(p.Config.RTC, p.Logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: p.Config, log: p.Logger, metrics: newMetrics(p.Registerer), media: media,
		auth: authenticator{keys: p.Config.Keys}, registry: p.Registry, nodeID: p.NodeID,
		ctx: ctx, cancel: cancel}
	if s.fwdMetrics, err = forward.NewMetrics(p.Registerer); err != nil {
		_ = media.Close()
		return nil, err
	}
	if media.udp != nil && p.Registerer != nil {
		if err := registerUDPMetrics(p.Registerer, media.udp); err != nil {
			_ = media.Close()
			return nil, err
		}
	}
	if media.direct != nil && p.Registerer != nil {
		if err := media.direct.register(p.Registerer); err != nil {
			_ = media.Close()
			return nil, err
		}
	}
	if p.Config.turnOn() {
		if s.turn, err = startTURN(p.Config, media, p.Logger); err != nil {
			_ = media.Close()
			return nil, err
		}
		if p.Registerer != nil {
			if err := p.Registerer.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Namespace: "marquee", Subsystem: "sfu", Name: "turn_allocations",
				Help: "Live allocations on the embedded TURN relay (sfu.turn)."},
				func() float64 { return float64(s.turn.allocations()) })); err != nil {
				_ = s.turn.Close()
				_ = media.Close()
				return nil, err
			}
		}
	}
	s.twirp = s.roomServiceHandler()
	return s, nil
}

// startTURN starts the relay towards media's sockets.
func startTURN(cfg Config, media *mediaAPI, log *slog.Logger) (*turnRelay, error) {
	var muxed net.Addr
	if media.udp != nil {
		muxed = media.udp.LocalAddr()
	}
	addrs, err := sfuMediaAddrs(cfg.RTC, muxed)
	if err != nil {
		return nil, err
	}
	return newTURNRelay(cfg, addrs, log)
}

// newForwarder builds the forwarder of a track the publisher announced;
// its layers are added as their media arrives. sharedClock is set for
// Marquee's ingest, whose simulcast layers share one RTP timestamp base.
func (s *Server) newForwarder(info *livekit.TrackInfo, kind webrtc.RTPCodecType, codec webrtc.RTPCodecParameters,
	pc *webrtc.PeerConnection, streamID string, sharedClock bool, log *slog.Logger) trackForwarder {
	return receiverForwarder{r: forward.NewReceiver(forward.ReceiverParams{
		TrackID: info.Sid, StreamID: streamID, Kind: kind, Codec: codec,
		Dimensions:  layerDimensions(info.Layers), //lint:ignore SA1019 the layer sizes clients send
		SharedClock: sharedClock,
		Metrics:     s.fwdMetrics, Logger: log, Writers: s.media.writers,
		RequestKeyframe: func(ssrc uint32) {
			_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
		},
	})}
}

// Run serves until ctx ends, then closes every room; it is a lifecycle.Part.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	return s.Close()
}

// Close disconnects everyone, waits for every goroutine and frees the
// media socket.
func (s *Server) Close() error {
	s.cancel()
	var wg sync.WaitGroup
	for _, r := range s.registry.List() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.closeWith(livekit.DisconnectReason_SERVER_SHUTDOWN)
			s.registry.Remove(r)
		}()
	}
	wg.Wait()
	s.conns.Wait()
	var err error
	if s.turn != nil {
		err = s.turn.Close()
	}
	return errors.Join(err, s.media.Close())
}

// enabledCodecs are the codecs a room accepts from publishers (Room and
// JoinResponse.enabled_publish_codecs).
func enabledCodecs() []*livekit.Codec {
	return []*livekit.Codec{{Mime: webrtc.MimeTypeVP8}, {Mime: webrtc.MimeTypeH264}, {Mime: webrtc.MimeTypeOpus}}
}

func (s *Server) serverInfo() *livekit.ServerInfo {
	return &livekit.ServerInfo{Edition: livekit.ServerInfo_Standard, Version: ServerVersion,
		Protocol: serverProtocol, NodeId: s.nodeID}
}

// ServeHTTP routes /rtc, /rtc/v1, their /validate, and the RoomService.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/rtc":
		s.handleRTC(w, r, false)
	case path == "/rtc/v1":
		s.handleRTC(w, r, true)
	case path == "/rtc/validate" || path == "/rtc/v1/validate":
		s.handleValidate(w, r, path == "/rtc/v1/validate")
	case strings.HasPrefix(r.URL.Path, livekit.RoomServicePathPrefix):
		s.twirp.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// joinRequest is a join, or a resume, as read from the URL.
type joinRequest struct {
	joinParams
	reconnect      bool
	participantSID string
	offer          *livekit.SessionDescription
	addTracks      []*livekit.AddTrackRequest
}

// parseJoin reads the classic query parameters (/rtc) or the wrapped,
// possibly gzipped JoinRequest in join_request (/rtc/v1).
func parseJoin(r *http.Request, single bool) (*joinRequest, error) {
	q := r.URL.Query()
	jr := &joinRequest{}
	jr.singlePC = single
	if !single || q.Get("join_request") == "" {
		if single {
			return nil, fmt.Errorf("%w: /rtc/v1 needs join_request", ErrBadRequest)
		}
		jr.autoSubscribe = q.Get("auto_subscribe") != "0" && q.Get("auto_subscribe") != "false"
		jr.reconnect = q.Get("reconnect") == "1" || q.Get("reconnect") == "true"
		jr.participantSID = q.Get("sid")
		if a := q.Get("attributes"); a != "" {
			b, err := decodeB64(a)
			if err != nil || json.Unmarshal(b, &jr.attributes) != nil {
				return nil, fmt.Errorf("%w: attributes is not base64 JSON", ErrBadRequest)
			}
		}
		jr.metadata = q.Get("metadata")
		return jr, nil
	}
	req, err := decodeJoinRequest(q.Get("join_request"))
	if err != nil {
		return nil, err
	}
	jr.autoSubscribe = req.GetConnectionSettings().GetAutoSubscribe()
	jr.reconnect = req.Reconnect
	jr.participantSID = req.ParticipantSid
	jr.metadata = req.Metadata
	jr.attributes = req.ParticipantAttributes
	jr.clientInfo = req.ClientInfo
	jr.offer = req.PublisherOffer
	jr.addTracks = req.AddTrackRequests
	return jr, nil
}

// decodeJoinRequest unwraps livekit.WrappedJoinRequest (base64url, then
// protobuf, then optionally gzip, then protobuf JoinRequest).
func decodeJoinRequest(param string) (*livekit.JoinRequest, error) {
	b, err := decodeB64(param)
	if err != nil {
		return nil, fmt.Errorf("%w: join_request is not base64url", ErrBadRequest)
	}
	var wrapped livekit.WrappedJoinRequest
	if err := proto.Unmarshal(b, &wrapped); err != nil {
		return nil, fmt.Errorf("%w: join_request: %v", ErrBadRequest, err)
	}
	raw := wrapped.JoinRequest
	if wrapped.Compression == livekit.WrappedJoinRequest_GZIP {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: join_request gzip: %v", ErrBadRequest, err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, maxSignalMessage+1))
		if err != nil || len(raw) > maxSignalMessage {
			return nil, fmt.Errorf("%w: join_request gzip body too large or corrupt", ErrBadRequest)
		}
	}
	var req livekit.JoinRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("%w: join_request: %v", ErrBadRequest, err)
	}
	return &req, nil
}

func decodeB64(s string) ([]byte, error) {
	s = strings.NewReplacer("+", "-", "/", "_").Replace(strings.TrimSpace(s))
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// handleValidate answers the probe clients make after a failed WebSocket
// upgrade: 200 when the token would be admitted, 401/403 otherwise.
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request, single bool) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	grants, err := s.auth.verify(tokenFromRequest(r))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if err := joinGrants(grants); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	jr, err := parseJoin(r, single)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	jr.grants = grants
	if _, _, err := s.admit(jr); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	_, _ = io.WriteString(w, "success")
}

// admit checks a join against the size limits before the WebSocket
// upgrade, so the client gets a plain HTTP error that says what is too
// large; what is the limit_refusals label. ignored reports join-request
// metadata or attributes the grant did not allow (see joinState).
func (s *Server) admit(jr *joinRequest) (what string, ignored bool, err error) {
	lim, g := s.cfg.Limit, jr.grants
	if n := len(g.Identity); n > lim.MaxParticipantIdentityLength {
		return "identity", false, fmt.Errorf("%w: identity is %d bytes, the limit is %d", ErrLimitExceeded, n, lim.MaxParticipantIdentityLength)
	}
	if n := len(g.Video.Room); n > lim.MaxRoomNameLength {
		return "room_name", false, fmt.Errorf("%w: room name is %d bytes, the limit is %d", ErrLimitExceeded, n, lim.MaxRoomNameLength)
	}
	if jr.reconnect {
		return "", false, nil // a resume keeps the state it had
	}
	name, meta, attrs, ignored := joinState(jr.joinParams)
	what, err = lim.checkParticipant(name, meta, attrs)
	return what, ignored, err
}

func pathLabel(single bool) string {
	if single {
		return "rtc_v1"
	}
	return "rtc"
}

// handleRTC upgrades a join (or resume) to a signal connection and reads
// it until it closes.
func (s *Server) handleRTC(w http.ResponseWriter, r *http.Request, single bool) {
	label := pathLabel(single)
	grants, err := s.auth.verify(tokenFromRequest(r))
	if err != nil {
		s.metrics.joins.WithLabelValues(label, "unauthorized").Inc()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if err := joinGrants(grants); err != nil {
		s.metrics.joins.WithLabelValues(label, "denied").Inc()
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	jr, err := parseJoin(r, single)
	if err != nil {
		s.metrics.joins.WithLabelValues(label, "error").Inc()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	jr.grants = grants
	what, ignored, err := s.admit(jr)
	if ignored {
		s.metrics.permissionDenys.WithLabelValues("metadata").Inc()
		s.log.Debug("join request metadata or attributes ignored: not granted, or token-only",
			"participant", grants.Identity, "room", grants.Video.Room)
	}
	if err != nil {
		s.metrics.joins.WithLabelValues(label, "limited").Inc()
		s.metrics.limitRefusals.WithLabelValues(what).Inc()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // tokens, not origins, authorise (browsers join from the web app's origin)
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
		return
	}
	s.conns.Add(1)
	defer s.conns.Done()
	conn := newSignalConn(ws)
	go conn.writeLoop(s.ctx)
	p, err := s.attach(conn, jr)
	if err != nil {
		s.metrics.joins.WithLabelValues(label, "error").Inc()
		s.log.Info("join refused", "participant", grants.Identity, "err", err)
		reason := livekit.DisconnectReason_JOIN_FAILURE
		action := livekit.LeaveRequest_DISCONNECT
		if jr.reconnect {
			reason, action = livekit.DisconnectReason_STATE_MISMATCH, livekit.LeaveRequest_RECONNECT
		}
		conn.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{
			Leave: &livekit.LeaveRequest{Reason: reason, Action: action}}})
		conn.flushAndClose("join refused")
		<-conn.done
		return
	}
	if jr.reconnect {
		s.metrics.joins.WithLabelValues(label, "resumed").Inc()
	} else {
		s.metrics.joins.WithLabelValues(label, "ok").Inc()
	}
	s.conns.Add(1)
	go func() {
		defer s.conns.Done()
		conn.keepalive(s.ctx, s.cfg.SignalKeepalive)
	}()
	s.readLoop(conn, p)
}

// readLoop hands each client message to the participant in order.
func (s *Server) readLoop(conn *signalConn, p *participant) {
	defer func() {
		conn.abort()
		<-conn.done
		p.post(func() { p.connLost(conn) })
	}()
	for {
		req, err := conn.read(s.ctx)
		if errors.Is(err, ErrBadRequest) {
			s.metrics.signalErrors.WithLabelValues("malformed").Inc()
			conn.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{
				RequestResponse: &livekit.RequestResponse{Reason: livekit.RequestResponse_UNCLASSIFIED_ERROR,
					Message: err.Error()}}})
			continue
		}
		if err != nil {
			if !isClosedErr(err) {
				p.log.Debug("signal read ended", "err", err)
			}
			return
		}
		p.post(func() { p.handleSignal(req) })
	}
}

// attach joins a new participant or resumes an existing one on conn.
func (s *Server) attach(conn *signalConn, jr *joinRequest) (*participant, error) {
	name := jr.grants.Video.Room
	if jr.reconnect {
		room, err := s.registry.Room(name)
		if err != nil {
			return nil, err
		}
		var p *participant
		if err := room.do(s.ctx, func() {
			if m, ok := room.members[jr.grants.Identity]; ok && (jr.participantSID == "" || jr.participantSID == m.p.sid) {
				p = m.p
			}
		}); err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("%w: nothing to resume", ErrParticipantNotFound)
		}
		if err := p.do(s.ctx, func() { p.resume(conn) }); err != nil {
			return nil, fmt.Errorf("%w: participant left while resuming", ErrParticipantNotFound)
		}
		return p, nil
	}
	for range 2 { // a room may close between lookup and join: retry once
		room, _ := s.registry.LoadOrCreate(name, func() *Room { return newRoom(s, name, nil) })
		p, err := s.join(conn, room, jr)
		if errors.Is(err, ErrRoomClosed) {
			s.registry.Remove(room)
			continue
		}
		return p, err
	}
	return nil, ErrRoomClosed
}

func (s *Server) join(conn *signalConn, room *Room, jr *joinRequest) (*participant, error) {
	p := newParticipant(s, room, jr.joinParams, guid.New(guid.ParticipantPrefix))
	if err := p.setupTransports(); err != nil {
		return nil, err
	}
	var (
		roomInfo *livekit.Room
		others   []*livekit.ParticipantInfo
		jerr     error
	)
	if err := room.do(s.ctx, func() { roomInfo, others, jerr = room.join(p) }); err != nil || jerr != nil {
		p.teardownTransports()
		return nil, errors.Join(err, jerr)
	}
	p.conn.Store(conn)
	conn.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Join{Join: &livekit.JoinResponse{
		Room: roomInfo, Participant: p.infoClone(), OtherParticipants: others,
		ServerVersion: ServerVersion, ServerInfo: s.serverInfo(),
		SubscriberPrimary: !jr.singlePC && p.info.Permission.GetCanSubscribe(),
		IceServers:        s.turn.iceServers(p.sid, time.Now()),
		PingTimeout:       15, PingInterval: 5,
		EnabledPublishCodecs: enabledCodecs(),
	}}})
	go p.run()
	for _, at := range jr.addTracks {
		p.post(func() { p.handleSignal(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: at}}) })
	}
	if jr.offer != nil {
		offer := jr.offer
		p.post(func() { p.handleSignal(&livekit.SignalRequest{Message: &livekit.SignalRequest_Offer{Offer: offer}}) })
	}
	if p.sub != nil {
		// The first subscriber offer carries the data channels (and any
		// tracks the room subscribed us to), so ICE starts at once.
		p.post(func() { p.negotiationDue = true })
	}
	p.log.Info("participant joined", "sid", p.sid, "single_pc", jr.singlePC)
	return p, nil
}

package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/marquee-party/marquee/internal/roomconv"
	"github.com/marquee-party/marquee/media"
)

// LiveKitConnector joins rooms on a LiveKit-protocol SFU with
// server-sdk-go, minting its own join token from the SFU key pair.
type LiveKitConnector struct {
	// URL is the SFU's signalling URL, e.g. ws://127.0.0.1:7880.
	URL string
	// APIKey and APISecret sign the join tokens.
	APIKey, APISecret string
	// Logger gets one line per join and publication.
	Logger *slog.Logger
}

// tokenTTL bounds a join token; sessions outliving it keep their
// connection, the token is only checked at join.
const tokenTTL = 6 * time.Hour

// Join connects as p.Identity, named "Marquee", with marquee.role=ingest.
func (c *LiveKitConnector) Join(ctx context.Context, p JoinParams) (Room, error) {
	yes, no := true, false
	token, err := auth.NewAccessToken(c.APIKey, c.APISecret).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: p.Room, CanPublish: &yes, CanPublishData: &yes,
			CanSubscribe: &no, CanUpdateOwnMetadata: &yes}).
		SetIdentity(p.Identity).SetName(roomconv.IngestName).
		SetAttributes(map[string]string{roomconv.AttrRole: roomconv.RoleIngest}).
		SetValidFor(tokenTTL).ToJWT()
	if err != nil {
		return nil, fmt.Errorf("minting token: %w", err)
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &lkRoom{log: log.With("identity", p.Identity), onKeyframe: p.OnKeyframe}
	type result struct {
		room *lksdk.Room
		err  error
	}
	done := make(chan result, 1)
	go func() {
		room, err := lksdk.ConnectToRoomWithToken(c.URL, token, &lksdk.RoomCallback{
			OnDisconnected: func() {
				if r.closing.Load() {
					return // we left
				}
				r.log.Warn("disconnected from the SFU")
				if p.OnDisconnected != nil {
					p.OnDisconnected()
				}
			},
		}, lksdk.WithAutoSubscribe(false))
		done <- result{room, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, res.err
		}
		r.room = res.room
		return r, nil
	case <-ctx.Done():
		// The SDK's connect takes no context: leave once it returns.
		go func() {
			if res := <-done; res.room != nil {
				res.room.Disconnect()
			}
		}()
		return nil, ctx.Err()
	}
}

// lkRoom publishes a session's tracks and data through server-sdk-go.
// The player goroutine writes frames while the session goroutine sends
// playback messages, hence the mutex. It guards the tracks the writers
// use and is never held across a call to the SFU: Configure swaps the
// tracks under it and publishes without it (frames written meanwhile are
// dropped). Configure calls never overlap: the session stops a player
// before it configures the next one or unpublishes.
type lkRoom struct {
	log        *slog.Logger
	onKeyframe func(int)
	room       *lksdk.Room
	closing    atomic.Bool

	mu             sync.Mutex
	shape          media.Info // what is published
	video          []*lksdk.LocalTrack
	videoPack      []*media.Packetizer
	videoPub       *lksdk.LocalTrackPublication
	audio          *lksdk.LocalTrack
	audioPack      *media.Packetizer
	audioPub       *lksdk.LocalTrackPublication
	lastAttr       string
	writeErrLogged bool
}

// videoCapability is what the track offers; RTCP feedback per RFC 4585
// (nack, pli) and RFC 5104 (fir).
func videoCapability(codec string) webrtc.RTPCodecCapability {
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"},
		{Type: "goog-remb"}, {Type: "transport-cc"}}
	if codec == media.CodecH264 {
		return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: media.VideoClockRate, RTCPFeedback: fb,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	}
	return webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: media.VideoClockRate, RTCPFeedback: fb}
}

// Configure publishes the tracks info asks for, keeping those that match.
// A change of media kind (audio-only and video), ladder or codec takes the
// old track off and publishes a new one, which subscribers follow as a
// new track.
func (r *lkRoom) Configure(info media.Info) error {
	r.mu.Lock()
	videoChange, audioChange := !sameVideo(r.shape, info), r.shape.HasAudio != info.HasAudio
	oldVideo, oldVideoPub, oldAudioPub := r.video, r.videoPub, r.audioPub
	if videoChange {
		r.video, r.videoPack, r.videoPub = nil, nil, nil
	}
	if audioChange {
		r.audio, r.audioPack, r.audioPub = nil, nil, nil
	}
	r.shape = media.Info{} // until the new tracks are in
	r.mu.Unlock()

	lp := r.room.LocalParticipant
	if videoChange && oldVideoPub != nil {
		r.unpublishVideo(oldVideoPub, oldVideo)
	}
	if audioChange && oldAudioPub != nil {
		_ = lp.UnpublishTrack(oldAudioPub.SID())
	}
	if videoChange && info.HasVideo() {
		if err := r.publishVideo(info); err != nil {
			return fmt.Errorf("%w: publishing video: %w", ErrRoom, err)
		}
	}
	if audioChange && info.HasAudio {
		if err := r.publishAudio(); err != nil {
			return fmt.Errorf("%w: publishing audio: %w", ErrRoom, err)
		}
	}
	r.mu.Lock()
	r.shape = info
	r.mu.Unlock()
	return nil
}

// unpublishVideo takes a simulcast publication off the room.
// server-sdk-go's UnpublishTrack (v2.12) forgets a simulcast publication
// without removing its sender from the connection or renegotiating, so
// the SFU would keep the track, frozen on its last frame: remove the
// sender here, then renegotiate through the SDK's only public way to,
// an empty MediaSectionsRequirement.
func (r *lkRoom) unpublishVideo(pub *lksdk.LocalTrackPublication, tracks []*lksdk.LocalTrack) {
	lp := r.room.LocalParticipant
	if err := lp.UnpublishTrack(pub.SID()); err != nil {
		r.log.Warn("unpublishing video", "err", err)
	}
	if pc := lp.GetPublisherPeerConnection(); pc != nil {
		for _, s := range pc.GetSenders() {
			if slices.ContainsFunc(tracks, func(t *lksdk.LocalTrack) bool { return s.Track() == webrtc.TrackLocal(t) }) {
				if err := pc.RemoveTrack(s); err != nil {
					r.log.Warn("removing the video sender", "err", err)
				}
			}
		}
	}
	r.room.OnMediaSectionsRequirement(&livekit.MediaSectionsRequirement{})
	r.log.Info("unpublished video", "track", pub.SID())
}

func sameVideo(a, b media.Info) bool {
	return a.VideoCodec == b.VideoCodec && slices.Equal(a.Layers, b.Layers) || !a.HasVideo() && !b.HasVideo()
}

// quality maps a simulcast RID to LiveKit's layer quality.
func quality(rid string) livekit.VideoQuality {
	switch rid {
	case "h":
		return livekit.VideoQuality_MEDIUM
	case "f":
		return livekit.VideoQuality_HIGH
	}
	return livekit.VideoQuality_LOW
}

func (r *lkRoom) publishVideo(info media.Info) error {
	var tracks []*lksdk.LocalTrack
	var packs []*media.Packetizer
	for i, l := range info.Layers {
		layer := i
		t, err := lksdk.NewLocalTrack(videoCapability(info.VideoCodec),
			lksdk.WithSimulcast(roomconv.VideoTrackName, &livekit.VideoLayer{Quality: quality(l.RID),
				Width: uint32(l.Width), Height: uint32(l.Height), Bitrate: uint32(l.Bitrate)}),
			lksdk.WithRTCPHandler(func(p rtcp.Packet) {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					if r.onKeyframe != nil {
						r.onKeyframe(layer)
					}
				}
			}))
		if err != nil {
			return err
		}
		pk, err := media.NewPacketizer(info.VideoCodec)
		if err != nil {
			return err
		}
		tracks, packs = append(tracks, t), append(packs, pk)
	}
	top := info.Layers[len(info.Layers)-1]
	pub, err := r.room.LocalParticipant.PublishSimulcastTrack(tracks, &lksdk.TrackPublicationOptions{
		Name: roomconv.VideoTrackName, Source: livekit.TrackSource_CAMERA, VideoWidth: top.Width, VideoHeight: top.Height,
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.video, r.videoPack, r.videoPub = tracks, packs, pub
	r.mu.Unlock()
	r.log.Info("published video", "codec", info.VideoCodec, "layers", len(tracks), "width", top.Width, "height", top.Height)
	return nil
}

func (r *lkRoom) publishAudio() error {
	t, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: media.AudioClockRate,
		Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1"})
	if err != nil {
		return err
	}
	pk, err := media.NewPacketizer("opus")
	if err != nil {
		return err
	}
	pub, err := r.room.LocalParticipant.PublishTrack(t, &lksdk.TrackPublicationOptions{
		Name: roomconv.AudioTrackName, Source: livekit.TrackSource_MICROPHONE,
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.audio, r.audioPack, r.audioPub = t, pk, pub
	r.mu.Unlock()
	r.log.Info("published audio")
	return nil
}

// WriteVideo packetizes f into its layer's track.
func (r *lkRoom) WriteVideo(f media.Frame) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.Layer >= len(r.video) {
		return nil
	}
	return r.writePackets(r.video[f.Layer], r.videoPack[f.Layer], f)
}

// WriteAudio packetizes one Opus packet.
func (r *lkRoom) WriteAudio(f media.Frame) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.audio == nil {
		return nil
	}
	return r.writePackets(r.audio, r.audioPack, f)
}

// writePackets sends f's packets. Write errors (an unbound track while
// the SFU renegotiates, a broken transport) are logged once per track and
// not returned: a live frame is worth nothing later, and the item must
// keep its timeline.
func (r *lkRoom) writePackets(t *lksdk.LocalTrack, pk *media.Packetizer, f media.Frame) error {
	for _, p := range pk.Packetize(f) {
		if err := t.WriteRTP(p, nil); err != nil && !r.writeErrLogged {
			r.writeErrLogged = true
			r.log.Warn("RTP write failed", "err", err)
		}
	}
	return nil
}

// SendPlayback sends msg reliably on the marquee.playback topic and, when
// it changed, mirrors it into the participant's attributes for late joiners.
func (r *lkRoom) SendPlayback(msg []byte, changed bool) error {
	lp := r.room.LocalParticipant
	err := lp.PublishDataPacket(lksdk.UserData(msg), lksdk.WithDataPublishTopic(roomconv.TopicPlayback), lksdk.WithDataPublishReliable(true))
	if changed {
		r.mu.Lock()
		update := r.lastAttr != string(msg)
		r.lastAttr = string(msg)
		r.mu.Unlock()
		if update {
			// Only the report: marquee.role comes from the token, and the
			// SFU refuses an update that names it.
			lp.SetAttributes(map[string]string{roomconv.AttrPlayback: string(msg)})
		}
	}
	return err
}

// Close leaves the room, which unpublishes everything.
func (r *lkRoom) Close() {
	r.closing.Store(true)
	r.room.Disconnect()
}

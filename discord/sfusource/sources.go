package sfusource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"

	"github.com/marquee-party/marquee/discord"
	"github.com/marquee-party/marquee/internal/roomconv"
)

// Config reaches the SFU.
type Config struct {
	URL       string `yaml:"url" usage:"SFU signalling URL for the Discord audio subscriber"`
	APIKey    string `yaml:"api_key" usage:"SFU API key"`
	APISecret string `yaml:"api_secret" usage:"SFU API secret (never logged)"`
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.URL == "" || c.APIKey == "" || c.APISecret == "" {
		return errors.New("sfusource: url, api_key and api_secret are required")
	}
	return nil
}

// Sources opens party rooms' audio; it implements discord.AudioSources.
type Sources struct {
	cfg Config
	log *slog.Logger
}

// New returns Sources for cfg.
func New(cfg Config, log *slog.Logger) (*Sources, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sources{cfg: cfg, log: log.With("component", "sfusource")}, nil
}

// token mints a hidden, subscribe-only grant for room.
func (s *Sources) token(room, identity string) (string, error) {
	no, yes := false, true
	at := auth.NewAccessToken(s.cfg.APIKey, s.cfg.APISecret).
		SetIdentity(identity).SetName("Discord").SetValidFor(24 * time.Hour).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, Hidden: true,
			CanPublish: &no, CanPublishData: &no, CanSubscribe: &yes})
	return at.ToJWT()
}

// Open joins room and starts forwarding the ingest's audio.
func (s *Sources) Open(ctx context.Context, room string) (discord.OpusSource, error) {
	identity := fmt.Sprintf("%s%d", roomconv.DiscordIdentityPrefix, time.Now().UnixNano())
	tok, err := s.token(room, identity)
	if err != nil {
		return nil, fmt.Errorf("sfusource: token: %w", err)
	}
	src := newSource(s.log.With("room", room))
	cb := lksdk.NewRoomCallback()
	var mu sync.Mutex
	requested := map[string]bool{} // track SIDs we subscribed to
	subscribe := func(pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if pub.Name() != roomconv.AudioTrackName || !isIngest(rp.Identity(), rp.Permissions()) {
			return
		}
		mu.Lock()
		seen := requested[pub.SID()]
		requested[pub.SID()] = true
		mu.Unlock()
		if seen {
			return
		}
		if err := pub.SetSubscribed(true); err != nil {
			src.log.Warn("subscribing to the audio track failed", "err", err)
		}
	}
	cb.OnTrackPublished = subscribe
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		if track.Kind() == webrtc.RTPCodecTypeAudio && pub.Name() == roomconv.AudioTrackName {
			src.log.Info("forwarding audio", "from", rp.Identity(), "codec", track.Codec().MimeType)
			src.readTrack(track)
		}
	}
	cb.OnDisconnected = func() {
		src.log.Warn("left the SFU room")
		src.end()
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		p, ok := data.(*lksdk.UserDataPacket)
		if !ok {
			return
		}
		var perm *livekit.ParticipantPermission
		if params.Sender != nil {
			perm = params.Sender.Permissions()
		}
		src.onData(p.Topic, p.Payload, params.SenderIdentity, perm)
	}
	// The SDK's join takes no context; it times out on its own.
	r, err := lksdk.ConnectToRoomWithToken(s.cfg.URL, tok, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		return nil, fmt.Errorf("sfusource: join %s: %w", room, err)
	}
	if ctx.Err() != nil {
		r.Disconnect()
		return nil, ctx.Err()
	}
	src.disconnect = r.Disconnect
	// Tracks published before we joined are announced through
	// OnTrackPublished too; subscribe to any already listed as well.
	// (IsSubscribed races inside the SDK, so we remember our own requests.)
	for _, rp := range r.GetRemoteParticipants() {
		for _, tp := range rp.TrackPublications() {
			if pub, ok := tp.(*lksdk.RemoteTrackPublication); ok {
				subscribe(pub, rp)
			}
		}
	}
	return src, nil
}

// Compile-time checks that the adapters fit the bot's interfaces.
var (
	_ discord.AudioSources = (*Sources)(nil)
	_ discord.OpusSource   = (*Source)(nil)
)

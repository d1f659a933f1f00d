package party

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/marquee-party/marquee/internal/roomconv"
)

// LiveKitConfig locates the SFU and holds the key pair that signs tokens.
type LiveKitConfig struct {
	// URL is the SFU's signalling URL given to clients (ws:// or wss://).
	URL string
	// APIKey and APISecret sign access tokens and RoomService calls.
	APIKey    string
	APISecret string
	// TokenTTL is how long a minted access token is valid.
	TokenTTL time.Duration
}

// Rooms is the part of LiveKit's RoomService the party service uses.
type Rooms interface {
	CreateRoom(ctx context.Context, req *livekit.CreateRoomRequest) (*livekit.Room, error)
	DeleteRoom(ctx context.Context, req *livekit.DeleteRoomRequest) (*livekit.DeleteRoomResponse, error)
	UpdateParticipant(ctx context.Context, req *livekit.UpdateParticipantRequest) (*livekit.ParticipantInfo, error)
	ListParticipants(ctx context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error)
}

// NewRoomService returns server-sdk-go's RoomService client for the SFU.
func NewRoomService(c LiveKitConfig) Rooms {
	return lksdk.NewRoomServiceClient(c.URL, c.APIKey, c.APISecret)
}

// AccessToken is a LiveKit JWT and what a client needs to connect.
type AccessToken struct {
	URL      string `json:"url"`
	Token    string `json:"token"`
	Room     string `json:"room"`
	Identity string `json:"identity"`
	Role     Role   `json:"role"`
}

// Identity is a user's participant identity in the SFU. People are only
// ever minted roomconv.UserIdentityPrefix identities, so nobody but the
// ingest holds an ingest- one (receivers rely on it, see roomconv).
func Identity(userID int64) string {
	return roomconv.UserIdentityPrefix + strconv.FormatInt(userID, 10)
}

// TabIdentity is the identity of one connection (a browser tab) of a user:
// "user-<id>.<tab>". Each tab is its own participant, so a second tab never
// knocks the first out of the room (LiveKit closes the older participant of
// a duplicate identity); the stem ties every tab to the user.
func TabIdentity(userID int64, tab string) string { return Identity(userID) + "." + tab }

// UserOfIdentity returns the user behind a participant identity made by
// Identity or TabIdentity.
func UserOfIdentity(identity string) (int64, bool) {
	rest, ok := strings.CutPrefix(identity, roomconv.UserIdentityPrefix)
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, ".")
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// ValidTab reports whether tab may name a connection: 1 to 32 ASCII
// letters, digits, '-' or '_'.
func ValidTab(tab string) bool {
	if tab == "" || len(tab) > 32 {
		return false
	}
	for _, r := range tab {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Grant returns exactly the LiveKit grants of a party role. Nobody but the
// ingest publishes media: every role may join, subscribe and send data
// (chat, reactions, sync reports) and none may publish tracks. Control
// rights (host, cohost) live in Marquee's API, not in the SFU grant.
func Grant(room string, _ Role) *auth.VideoGrant {
	g := &auth.VideoGrant{RoomJoin: true, Room: room}
	g.SetCanSubscribe(true)
	g.SetCanPublish(false)
	g.SetCanPublishData(true)
	g.SetCanUpdateOwnMetadata(false)
	return g
}

// MintToken signs an access token for a member of p, for the connection
// tab (see TabIdentity); an empty tab gets a random one.
func MintToken(c LiveKitConfig, p Party, userID int64, tab, name string, role Role) (AccessToken, error) {
	if !role.Valid() {
		return AccessToken{}, fmt.Errorf("%w: role %q", ErrInvalid, role)
	}
	if tab == "" {
		tab = randomHex(4)
	}
	if !ValidTab(tab) {
		return AccessToken{}, fmt.Errorf("%w: tab must be 1-32 letters, digits, '-' or '_'", ErrInvalid)
	}
	ttl := c.TokenTTL
	if ttl <= 0 {
		ttl = 6 * time.Hour
	}
	id := TabIdentity(userID, tab)
	if roomconv.IsIngestIdentity(id) {
		return AccessToken{}, fmt.Errorf("%w: identity %q is reserved for the ingest", ErrInvalid, id)
	}
	md, _ := json.Marshal(map[string]any{"userId": userID, "partyId": p.ID})
	jwt, err := auth.NewAccessToken(c.APIKey, c.APISecret).
		SetIdentity(id).SetName(name).SetValidFor(ttl).
		SetVideoGrant(Grant(p.Room, role)).
		SetMetadata(string(md)).
		SetAttributes(map[string]string{roomconv.AttrRole: string(role)}).
		ToJWT()
	if err != nil {
		return AccessToken{}, fmt.Errorf("party: sign access token: %w", err)
	}
	return AccessToken{URL: c.URL, Token: jwt, Room: p.Room, Identity: id, Role: role}, nil
}

// AccessToken mints a LiveKit token for an active member of a party, for
// one connection of theirs (tab; empty for a random one).
func (s *Service) AccessToken(ctx context.Context, partyID, userID int64, tab string) (AccessToken, error) {
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return AccessToken{}, err
	}
	m, err := s.Member(ctx, partyID, userID)
	if err != nil {
		return AccessToken{}, err
	}
	return MintToken(s.lk, p, userID, tab, m.DisplayName, m.Role)
}

func (s *Service) createRoom(ctx context.Context, room string) {
	if s.rooms == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.rooms.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: room, EmptyTimeout: 600}); err != nil {
		// Joining creates the room too; a failure here is not fatal.
		s.log.Warn("SFU CreateRoom failed", "room", room, "err", err)
	}
}

func (s *Service) deleteRoom(ctx context.Context, room string) {
	if s.rooms == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.rooms.DeleteRoom(ctx, &livekit.DeleteRoomRequest{Room: room}); err != nil {
		s.log.Debug("SFU DeleteRoom failed", "room", room, "err", err)
	}
}

// updateRoomRole tells the SFU a member's new role (participant attribute
// marquee.role) on each of their connections, so every client's UI follows
// a host hand-off at once.
func (s *Service) updateRoomRole(ctx context.Context, partyID int64, m Member) {
	if s.rooms == nil {
		return
	}
	p, err := s.Get(ctx, partyID)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	list, err := s.rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: p.Room})
	if err != nil {
		s.log.Debug("SFU ListParticipants failed", "party", partyID, "err", err)
		return
	}
	for _, pi := range list.GetParticipants() {
		if uid, ok := UserOfIdentity(pi.GetIdentity()); !ok || uid != m.UserID {
			continue
		}
		if _, err := s.rooms.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: p.Room, Identity: pi.GetIdentity(),
			Attributes: map[string]string{roomconv.AttrRole: string(m.Role)}}); err != nil {
			// The participant may have just left.
			s.log.Debug("SFU UpdateParticipant failed", "party", partyID, "identity", pi.GetIdentity(), "err", err)
		}
	}
}

package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// gatewayConn is one main gateway websocket (API v9, JSON encoding).
type gatewayConn struct {
	ws  *websocket.Conn
	mu  sync.Mutex
	seq int
}

// dispatch sends an opcode 0 event with the next sequence number.
func (g *gatewayConn) dispatch(ctx context.Context, event string, d any) error {
	g.mu.Lock()
	g.seq++
	seq := g.seq
	g.mu.Unlock()
	return g.send(ctx, map[string]any{"op": 0, "t": event, "s": seq, "d": d})
}

func (g *gatewayConn) send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return g.ws.Write(wctx, websocket.MessageText, b)
}

// serveGateway speaks the main gateway ("Gateway": Hello, Identify, Ready,
// Heartbeat/ACK, Resume, Voice State Update).
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	defer s.track(ws)()
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	ctx := context.Background()
	g := &gatewayConn{ws: ws}
	s.mu.Lock()
	s.gw = g
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.gw == g {
			s.gw = nil
		}
		s.mu.Unlock()
	}()
	if g.send(ctx, map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}}) != nil {
		return
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var m struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(b, &m) != nil {
			_ = ws.Close(4002, "decode error")
			return
		}
		if err := s.handleGateway(ctx, g, m.Op, m.D); err != nil {
			return
		}
	}
}

func (s *Server) handleGateway(ctx context.Context, g *gatewayConn, op int, d json.RawMessage) error {
	switch op {
	case 1: // Heartbeat
		return g.send(ctx, map[string]any{"op": 11})
	case 2: // Identify
		var id struct {
			Token   string `json:"token"`
			Intents int    `json:"intents"`
		}
		_ = json.Unmarshal(d, &id)
		if id.Token != "Bot "+s.opts.Token && id.Token != s.opts.Token {
			_ = g.ws.Close(4004, "Authentication failed.")
			return fmt.Errorf("bad token")
		}
		s.mu.Lock()
		s.st.Identifies++
		s.st.Intents = id.Intents
		s.changed()
		vc := s.voice
		s.mu.Unlock()
		if vc != nil {
			// A new gateway session drops the old one's voice connection.
			s.voiceClose(vc, 4014, "Disconnected")
		}
		if err := g.dispatch(ctx, "READY", s.readyPayload()); err != nil {
			return err
		}
		return g.dispatch(ctx, "GUILD_CREATE", s.guildPayload())
	case 6: // Resume
		s.mu.Lock()
		s.st.Resumes++
		reject := s.rejectResumes
		s.changed()
		s.mu.Unlock()
		if reject {
			// "Resuming": an unresumable session gets opcode 9 Invalid Session.
			return g.send(ctx, map[string]any{"op": 9, "d": false})
		}
		return g.dispatch(ctx, "RESUMED", map[string]any{})
	case 4: // Voice State Update
		var vs struct {
			GuildID   string  `json:"guild_id"`
			ChannelID *string `json:"channel_id"`
		}
		_ = json.Unmarshal(d, &vs)
		ch := ""
		if vs.ChannelID != nil {
			ch = *vs.ChannelID
		}
		return s.voiceJoin(ctx, g, vs.GuildID, ch)
	}
	return nil
}

// voiceJoin answers opcode 4 with VOICE_STATE_UPDATE and, when joining,
// VOICE_SERVER_UPDATE ("Connecting to Voice").
func (s *Server) voiceJoin(ctx context.Context, g *gatewayConn, guildID, channelID string) error {
	s.mu.Lock()
	s.st.VoiceJoins = append(s.st.VoiceJoins, VoiceJoin{GuildID: guildID, ChannelID: channelID})
	sessionID := "vs-" + s.newID()
	token := "vt-" + s.newID()
	if channelID != "" {
		s.vsess[sessionID] = &voiceSession{id: sessionID, token: token, guildID: guildID, channelID: channelID}
		s.curVoiceSession = sessionID
	}
	s.changed()
	s.mu.Unlock()
	var ch any
	if channelID != "" {
		ch = channelID
	}
	state := map[string]any{
		"guild_id": guildID, "channel_id": ch, "user_id": s.opts.BotUserID, "session_id": sessionID,
		"deaf": false, "mute": false, "self_deaf": false, "self_mute": false, "self_video": false,
		"suppress": channelID == s.opts.StageChannelID, "request_to_speak_timestamp": nil,
	}
	if err := g.dispatch(ctx, "VOICE_STATE_UPDATE", state); err != nil || channelID == "" {
		return err
	}
	return g.dispatch(ctx, "VOICE_SERVER_UPDATE", map[string]any{"token": token, "guild_id": guildID, "endpoint": s.addr()})
}

func (s *Server) readyPayload() map[string]any {
	return map[string]any{
		"v":                  9,
		"user":               map[string]any{"id": s.opts.BotUserID, "username": "marquee", "discriminator": "0", "bot": true},
		"session_id":         "gw-session",
		"resume_gateway_url": "wss://" + s.addr() + "/gateway/",
		"guilds":             []any{map[string]any{"id": s.opts.GuildID, "unavailable": true}},
		"application":        map[string]any{"id": s.opts.ApplicationID, "flags": 0},
	}
}

func (s *Server) guildPayload() map[string]any {
	o := s.opts
	return map[string]any{
		"id": o.GuildID, "name": "Film Club", "owner_id": "1", "member_count": 3,
		"roles": []any{map[string]any{"id": o.GuildID, "name": "@everyone", "permissions": "0"}},
		"channels": []any{
			map[string]any{"id": o.TextChannelID, "type": 0, "name": "watch", "guild_id": o.GuildID},
			map[string]any{"id": o.StageChannelID, "type": 13, "name": "cinema", "guild_id": o.GuildID},
			map[string]any{"id": o.VoiceChannelID, "type": 2, "name": "lounge", "guild_id": o.GuildID},
		},
		"voice_states": []any{}, "members": []any{},
	}
}

// Member is the user who runs a command.
type Member struct {
	UserID string
	Roles  []string
}

// Option is one interaction option, as Discord sends it.
type Option struct {
	Name    string   `json:"name"`
	Type    int      `json:"type"`
	Value   any      `json:"value,omitempty"`
	Focused bool     `json:"focused,omitempty"`
	Options []Option `json:"options,omitempty"`
}

// Interaction kinds.
const (
	InteractionCommand      = 2
	InteractionAutocomplete = 4
)

// Interact dispatches an INTERACTION_CREATE from member in the text channel
// and returns the interaction id.
func (s *Server) Interact(kind int, member Member, name string, options ...Option) (string, error) {
	s.mu.Lock()
	g := s.gw
	id := s.newID()
	s.mu.Unlock()
	if g == nil {
		return "", fmt.Errorf("discordtest: no gateway connection")
	}
	roles := member.Roles
	if roles == nil {
		roles = []string{}
	}
	d := map[string]any{
		"id": id, "application_id": s.opts.ApplicationID, "type": kind, "token": "itoken-" + id, "version": 1,
		"guild_id": s.opts.GuildID, "channel_id": s.opts.TextChannelID,
		"member": map[string]any{"user": map[string]any{"id": member.UserID, "username": "u" + member.UserID, "discriminator": "0"},
			"roles": roles, "permissions": "0"},
		"data": map[string]any{"id": "cmd-" + name, "name": name, "type": 1, "options": options},
	}
	return id, g.dispatch(context.Background(), "INTERACTION_CREATE", d)
}

// DropGateway closes the main gateway websocket abnormally so the bot
// reconnects and resumes.
func (s *Server) DropGateway() {
	s.mu.Lock()
	g := s.gw
	s.mu.Unlock()
	if g != nil {
		g.ws.CloseNow()
	}
}

// InvalidateSession sends opcode 9 Invalid Session (not resumable) on the
// main gateway, so the bot identifies again with a new session.
func (s *Server) InvalidateSession() error {
	s.mu.Lock()
	g := s.gw
	s.mu.Unlock()
	if g == nil {
		return fmt.Errorf("discordtest: no gateway connection")
	}
	return g.send(context.Background(), map[string]any{"op": 9, "d": false})
}

// RejectResumes makes the fake answer every Resume with opcode 9 Invalid
// Session, as Discord does once a session expired.
func (s *Server) RejectResumes(reject bool) {
	s.mu.Lock()
	s.rejectResumes = reject
	s.mu.Unlock()
}

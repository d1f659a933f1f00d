package discordtest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// voiceSession is one voice session (from a VOICE_SERVER_UPDATE), which
// survives websocket resumes.
type voiceSession struct {
	id, token, guildID, channelID string
	ssrc                          uint32
	mode                          string
	key                           [32]byte
	seq                           int // last sequence number sent
}

// voiceConn is the current voice websocket.
type voiceConn struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	sess *voiceSession
}

// send writes one JSON message, numbering it when numbered is set ("Buffered
// Resume": the server adds seq to messages it may replay).
func (s *Server) voiceSend(ctx context.Context, vc *voiceConn, op int, d any, numbered bool) error {
	m := map[string]any{"op": op, "d": d}
	if numbered && vc.sess != nil {
		s.mu.Lock()
		vc.sess.seq++
		m["seq"] = vc.sess.seq
		s.st.VoiceSeq = vc.sess.seq
		s.changed()
		s.mu.Unlock()
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return vc.ws.Write(wctx, websocket.MessageText, b)
}

// sendBinary writes a binary message: uint16 seq, uint8 opcode, payload
// ("Binary Websocket Messages").
func (s *Server) voiceSendBinary(ctx context.Context, vc *voiceConn, op byte, payload []byte) error {
	s.mu.Lock()
	vc.sess.seq++
	seq := vc.sess.seq
	s.st.VoiceSeq = seq
	s.changed()
	s.mu.Unlock()
	b := binary.BigEndian.AppendUint16(nil, uint16(seq))
	b = append(append(b, op), payload...)
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return vc.ws.Write(ctx, websocket.MessageBinary, b)
}

// serveVoice speaks the voice gateway; only ?v=8 is accepted.
func (s *Server) serveVoice(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || r.URL.Query().Get("v") != "8" {
		http.NotFound(w, r)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	defer s.track(ws)()
	defer ws.CloseNow()
	ctx := context.Background()
	vc := &voiceConn{ws: ws}
	s.mu.Lock()
	s.voice = vc
	s.mu.Unlock()
	if s.voiceSend(ctx, vc, 8, map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}, false) != nil {
		return
	}
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var m struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if json.Unmarshal(b, &m) != nil {
			s.voiceClose(vc, 4002, "Failed to decode payload")
			return
		}
		if !s.handleVoice(ctx, vc, m.Op, m.D) {
			return
		}
	}
}

// voiceClose closes the websocket with code and records it.
func (s *Server) voiceClose(vc *voiceConn, code int, reason string) {
	s.mu.Lock()
	s.st.VoiceCloses = append(s.st.VoiceCloses, code)
	s.changed()
	s.mu.Unlock()
	vc.mu.Lock()
	defer vc.mu.Unlock()
	_ = vc.ws.Close(websocket.StatusCode(code), reason)
}

// CloseVoice closes the current voice websocket with code (e.g. 4015).
func (s *Server) CloseVoice(code int) {
	s.mu.Lock()
	vc := s.voice
	s.mu.Unlock()
	if vc != nil {
		s.voiceClose(vc, code, "closed by test")
	}
}

func (s *Server) handleVoice(ctx context.Context, vc *voiceConn, op int, d json.RawMessage) bool {
	switch op {
	case 0:
		return s.voiceIdentify(ctx, vc, d)
	case 1:
		return s.voiceSelect(ctx, vc, d)
	case 3:
		var hb struct {
			T      int64 `json:"t"`
			SeqAck *int  `json:"seq_ack"`
		}
		if json.Unmarshal(d, &hb) != nil || hb.SeqAck == nil {
			s.voiceClose(vc, 4020, "Invalid heartbeat")
			return false
		}
		s.mu.Lock()
		s.st.HeartbeatAcks = append(s.st.HeartbeatAcks, *hb.SeqAck)
		s.changed()
		s.mu.Unlock()
		return s.voiceSend(ctx, vc, 6, map[string]any{"t": hb.T}, false) == nil
	case 5:
		var sp struct {
			Speaking int    `json:"speaking"`
			SSRC     uint32 `json:"ssrc"`
		}
		_ = json.Unmarshal(d, &sp)
		s.mu.Lock()
		s.st.Speaking = append(s.st.Speaking, sp.Speaking)
		s.changed()
		s.mu.Unlock()
		return true
	case 7:
		return s.voiceResume(ctx, vc, d)
	}
	s.voiceClose(vc, 4001, "Unknown opcode")
	return false
}

func (s *Server) voiceIdentify(ctx context.Context, vc *voiceConn, d json.RawMessage) bool {
	var id struct {
		ServerID  string `json:"server_id"`
		UserID    string `json:"user_id"`
		SessionID string `json:"session_id"`
		Token     string `json:"token"`
		MaxDAVE   int    `json:"max_dave_protocol_version"`
	}
	_ = json.Unmarshal(d, &id)
	s.mu.Lock()
	sess := s.vsess[id.SessionID]
	s.st.VoiceIdentifies++
	s.changed()
	s.mu.Unlock()
	if sess == nil || sess.token != id.Token || id.UserID != s.opts.BotUserID || id.ServerID != sess.guildID {
		s.voiceClose(vc, 4004, "Authentication failed")
		return false
	}
	if sess.channelID == s.opts.VoiceChannelID && id.MaxDAVE == 0 {
		// Normal voice channels require DAVE since March 2026.
		s.voiceClose(vc, 4017, "E2EE/DAVE protocol required")
		return false
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	s.mu.Lock()
	sess.ssrc = binary.BigEndian.Uint32(b[:])&0x7fffffff | 1
	sess.seq = 0
	s.keys[sess.ssrc] = sess
	vc.sess = sess
	s.mu.Unlock()
	ready := map[string]any{"ssrc": sess.ssrc, "ip": "127.0.0.1", "port": s.udp.LocalAddr().(*net.UDPAddr).Port,
		"modes": s.opts.VoiceModes, "heartbeat_interval": 1}
	return s.voiceSend(ctx, vc, 2, ready, true) == nil
}

func (s *Server) voiceSelect(ctx context.Context, vc *voiceConn, d json.RawMessage) bool {
	var sel struct {
		Protocol string `json:"protocol"`
		Data     struct {
			Address string `json:"address"`
			Port    int    `json:"port"`
			Mode    string `json:"mode"`
		} `json:"data"`
	}
	_ = json.Unmarshal(d, &sel)
	ok := false
	for _, m := range s.opts.VoiceModes {
		ok = ok || m == sel.Data.Mode
	}
	if vc.sess == nil || sel.Protocol != "udp" || !ok {
		s.voiceClose(vc, 4016, "Unknown encryption mode")
		return false
	}
	s.mu.Lock()
	_, _ = rand.Read(vc.sess.key[:])
	vc.sess.mode = sel.Data.Mode
	s.st.Mode = sel.Data.Mode
	key := make([]int, 32)
	for i, v := range vc.sess.key {
		key[i] = int(v)
	}
	s.changed()
	s.mu.Unlock()
	desc := map[string]any{"mode": sel.Data.Mode, "secret_key": key, "dave_protocol_version": 0}
	if s.voiceSend(ctx, vc, 4, desc, true) != nil {
		return false
	}
	// A v8 server also sends binary messages; opcode 25 is the DAVE
	// external sender package. Its sequence number must be acked.
	return s.voiceSendBinary(ctx, vc, 25, []byte{0}) == nil
}

func (s *Server) voiceResume(ctx context.Context, vc *voiceConn, d json.RawMessage) bool {
	var rs struct {
		ServerID  string `json:"server_id"`
		SessionID string `json:"session_id"`
		Token     string `json:"token"`
		SeqAck    *int   `json:"seq_ack"`
	}
	_ = json.Unmarshal(d, &rs)
	s.mu.Lock()
	sess := s.vsess[rs.SessionID]
	ack := -2
	if rs.SeqAck != nil {
		ack = *rs.SeqAck
	}
	s.st.VoiceResumes = append(s.st.VoiceResumes, ack)
	s.changed()
	s.mu.Unlock()
	if sess == nil || sess.token != rs.Token || sess.ssrc == 0 || rs.SeqAck == nil {
		s.voiceClose(vc, 4006, "Session no longer valid")
		return false
	}
	vc.sess = sess
	return s.voiceSend(ctx, vc, 9, nil, true) == nil
}

// VoiceCredentials are what a bot learns from VOICE_STATE_UPDATE and
// VOICE_SERVER_UPDATE.
type VoiceCredentials struct {
	Endpoint, GuildID, UserID, SessionID, Token string
}

// NewVoiceSession registers a voice session for channelID without the main
// gateway, for tests of the voice client alone.
func (s *Server) NewVoiceSession(channelID string) VoiceCredentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, token := "vs-"+s.newID(), "vt-"+s.newID()
	s.vsess[id] = &voiceSession{id: id, token: token, guildID: s.opts.GuildID, channelID: channelID}
	s.curVoiceSession = id
	return VoiceCredentials{Endpoint: s.addr(), GuildID: s.opts.GuildID, UserID: s.opts.BotUserID, SessionID: id, Token: token}
}

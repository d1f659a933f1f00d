package voice

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// sessionResult says how one websocket session ended.
type sessionResult struct {
	code        int // close code, -1 when none was received
	reason      string
	err         error
	established bool // Ready+Session Description or Resumed was reached
}

// handshakeTimeout bounds each handshake step.
const handshakeTimeout = 10 * time.Second

// session runs one voice websocket: Hello, then Identify (with UDP setup) or
// Resume, then reads until the connection closes.
func (c *Conn) session(ctx context.Context, action closeAction) sessionResult {
	url := fmt.Sprintf("wss://%s/?v=%d", c.p.Endpoint, GatewayVersion)
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	ws, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPClient: c.p.HTTPClient})
	cancel()
	if err != nil {
		return sessionResult{code: -1, err: fmt.Errorf("voice: dial: %w", err)}
	}
	ws.SetReadLimit(1 << 20)
	defer ws.CloseNow()
	defer c.setWS(nil)

	sctx, scancel := context.WithCancel(ctx)
	s := &wsSession{c: c, ws: ws, acked: make(chan int64, 1)}
	defer s.wg.Wait()
	defer scancel()
	res := sessionResult{code: -1}
	err = s.handshake(sctx, action)
	if err == nil {
		res.established = true
		c.setWS(ws)
		if c.wantsSpeaking() {
			c.announceSpeaking(sctx)
		}
		err = s.readLoop(sctx)
	}
	res.err = err
	if st := websocket.CloseStatus(err); st != -1 {
		res.code = int(st)
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			res.reason = ce.Reason
		}
	}
	return res
}

// wsSession is the state of one websocket.
type wsSession struct {
	c        *Conn
	ws       *websocket.Conn
	interval time.Duration
	acked    chan int64
	wg       sync.WaitGroup
}

// handshake performs Hello → Identify → Ready → (UDP) → Select Protocol →
// Session Description, or Hello → Resume → Resumed.
func (s *wsSession) handshake(ctx context.Context, action closeAction) error {
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	m, err := s.next(hctx, opHello)
	if err != nil {
		return err
	}
	var hello helloData
	if err := json.Unmarshal(m.D, &hello); err != nil || hello.HeartbeatInterval <= 0 {
		return fmt.Errorf("%w: bad hello %s", ErrProtocol, m.D)
	}
	s.interval = time.Duration(hello.HeartbeatInterval * float64(time.Millisecond))
	s.wg.Go(func() { s.heartbeatLoop(ctx) })

	p := s.c.p
	if action == actionResume && s.c.transport() != nil {
		if err := s.write(hctx, opResume, resumeData{ServerID: p.ServerID, SessionID: p.SessionID, Token: p.Token, SeqAck: int(s.c.seq.Load())}); err != nil {
			return err
		}
		_, err := s.next(hctx, opResumed)
		return err
	}
	s.c.seq.Store(-1)
	if err := s.write(hctx, opIdentify, identifyData{ServerID: p.ServerID, UserID: p.UserID, SessionID: p.SessionID, Token: p.Token}); err != nil {
		return err
	}
	m, err = s.next(hctx, opReady)
	if err != nil {
		return err
	}
	var ready readyData
	if err := json.Unmarshal(m.D, &ready); err != nil {
		return fmt.Errorf("%w: bad ready: %w", ErrProtocol, err)
	}
	mode, err := chooseMode(p.Modes, ready.Modes)
	if err != nil {
		return err
	}
	udp, err := dialUDP(hctx, ready.IP, ready.Port)
	if err != nil {
		return err
	}
	ip, port, err := discoverIP(hctx, udp, ready.SSRC)
	if err != nil {
		_ = udp.Close()
		return err
	}
	sel := selectProtocolData{Protocol: "udp", Data: selectProtocolAddr{Address: ip, Port: port, Mode: mode}}
	if err := s.write(hctx, opSelectProtocol, sel); err != nil {
		_ = udp.Close()
		return err
	}
	m, err = s.next(hctx, opSessionDescription)
	if err != nil {
		_ = udp.Close()
		return err
	}
	var sd sessionDescriptionData
	if err := json.Unmarshal(m.D, &sd); err != nil {
		_ = udp.Close()
		return fmt.Errorf("%w: bad session description: %w", ErrProtocol, err)
	}
	key := make([]byte, len(sd.SecretKey))
	for i, v := range sd.SecretKey {
		key[i] = byte(v)
	}
	if sd.Mode == "" {
		sd.Mode = mode
	}
	sl, err := newSealer(sd.Mode, key)
	if err != nil {
		_ = udp.Close()
		return err
	}
	s.c.setTransport(&transport{udp: udp, ssrc: ready.SSRC, sealer: sl})
	s.c.log.Info("voice connected", "mode", sd.Mode, "ssrc", ready.SSRC, "dave", sd.DAVEProtocolVersion)
	return nil
}

// next reads messages until one with opcode op arrives, handling the others.
func (s *wsSession) next(ctx context.Context, op int) (message, error) {
	for {
		m, ok, err := s.read(ctx)
		if err != nil {
			return message{}, err
		}
		if ok && m.Op == op {
			return m, nil
		}
	}
}

// readLoop reads until the websocket fails, handling heartbeat ACKs.
func (s *wsSession) readLoop(ctx context.Context) error {
	for {
		if _, _, err := s.read(ctx); err != nil {
			return err
		}
	}
}

// read reads one message, records its sequence number and handles ACKs. ok
// is false for binary (DAVE) messages, which carry only a sequence number
// that matters to us ("Binary Websocket Messages").
func (s *wsSession) read(ctx context.Context) (message, bool, error) {
	typ, b, err := s.ws.Read(ctx)
	if err != nil {
		return message{}, false, err
	}
	if typ == websocket.MessageBinary {
		if len(b) >= 3 {
			s.c.seq.Store(int64(binary.BigEndian.Uint16(b)))
		}
		return message{}, false, nil
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil {
		return message{}, false, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if m.Seq != nil {
		s.c.seq.Store(int64(*m.Seq))
	}
	if m.Op == opHeartbeatAck {
		var ack heartbeatData
		if json.Unmarshal(m.D, &ack) == nil {
			select {
			case s.acked <- ack.T:
			default:
			}
		}
	}
	return m, true, nil
}

// write sends one JSON payload. coder/websocket allows concurrent writers.
func (s *wsSession) write(ctx context.Context, op int, d any) error {
	b, err := json.Marshal(struct {
		Op int `json:"op"`
		D  any `json:"d"`
	}{op, d})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	return s.ws.Write(wctx, websocket.MessageText, b)
}

// heartbeatLoop sends Heartbeat with seq_ack every interval ("Heartbeating")
// and closes the websocket when the previous one went unacknowledged, so the
// session resumes on a fresh connection.
func (s *wsSession) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.acked:
			pending = false
			continue
		case <-t.C:
		}
		if pending {
			s.c.log.Warn("voice heartbeat not acknowledged; reconnecting")
			s.ws.CloseNow()
			return
		}
		nonce := time.Now().UnixMilli()
		if err := s.write(ctx, opHeartbeat, heartbeatData{T: nonce, SeqAck: int(s.c.seq.Load())}); err != nil {
			return
		}
		pending = true
	}
}

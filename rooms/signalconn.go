package rooms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxSignalQueue bounds the messages waiting for a slow signal client;
// past it the connection is closed rather than grow without end.
const maxSignalQueue = 1024

// maxSignalMessage bounds one client message (SDP offers are the largest).
const maxSignalMessage = 1 << 20

// signalConn is one WebSocket carrying LiveKit SignalRequest/SignalResponse
// messages: binary frames are protobuf, text frames protojson
// (livekit_rtc.proto; LiveKit replies in the client's encoding).
type signalConn struct {
	ws   *websocket.Conn
	json atomic.Bool

	mu     sync.Mutex
	q      []*livekit.SignalResponse
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newSignalConn(ws *websocket.Conn) *signalConn {
	ws.SetReadLimit(maxSignalMessage)
	return &signalConn{ws: ws, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// send queues msg; false means the connection is closed or overrun.
func (c *signalConn) send(msg *livekit.SignalResponse) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if len(c.q) >= maxSignalQueue {
		c.mu.Unlock()
		c.close(websocket.StatusPolicyViolation, "signal queue overrun")
		return false
	}
	c.q = append(c.q, msg)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// writeLoop writes queued messages until the connection closes.
func (c *signalConn) writeLoop(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			c.close(websocket.StatusGoingAway, "server shutting down")
			return
		case <-c.wake:
		}
		c.mu.Lock()
		q, closed := c.q, c.closed
		c.q = nil
		c.mu.Unlock()
		for _, m := range q {
			if err := c.write(ctx, m); err != nil {
				c.close(websocket.StatusInternalError, "write failed")
				return
			}
		}
		if closed {
			return
		}
	}
}

func (c *signalConn) write(ctx context.Context, m *livekit.SignalResponse) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if c.json.Load() {
		b, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		return c.ws.Write(ctx, websocket.MessageText, b)
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return c.ws.Write(ctx, websocket.MessageBinary, b)
}

// keepalive pings the client (RFC 6455 §5.5.2): server-sdk-go sends no
// signal-level pings, so a client that vanished without closing TCP is
// only noticed this way.
//
// It pings until the connection ends; a ping that gets
// no pong within the interval aborts the connection, which starts the
// participant's resume grace. The read loop must be running (it reads the
// pongs).
func (c *signalConn) keepalive(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, every)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			c.abort()
			return
		}
	}
}

// flushAndClose sends what is queued (e.g. a LeaveRequest), then closes.
func (c *signalConn) flushAndClose(reason string) {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if already {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	_ = c.ws.Close(websocket.StatusNormalClosure, reason)
}

// abort drops the socket at once (the peer is gone) and wakes the writer.
func (c *signalConn) abort() {
	c.mu.Lock()
	c.closed = true
	c.q = nil
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	_ = c.ws.CloseNow()
}

// close shuts the socket without flushing and wakes the writer so it
// exits.
func (c *signalConn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.closed = true
	c.q = nil
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	_ = c.ws.Close(code, reason)
}

// read returns the next client message. A frame that does not decode is
// reported as ErrBadRequest so the caller can answer and keep going.
func (c *signalConn) read(ctx context.Context) (*livekit.SignalRequest, error) {
	typ, b, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ == websocket.MessageText {
		c.json.Store(true)
	}
	return decodeSignalRequest(typ == websocket.MessageText, b)
}

// decodeSignalRequest parses one client frame; it is the untrusted-input
// boundary the fuzz test drives.
func decodeSignalRequest(text bool, b []byte) (*livekit.SignalRequest, error) {
	req := &livekit.SignalRequest{}
	var err error
	if text {
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, req)
	} else {
		err = proto.Unmarshal(b, req)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: undecodable signal message: %v", ErrBadRequest, err)
	}
	if req.Message == nil {
		return nil, fmt.Errorf("%w: empty signal message", ErrBadRequest)
	}
	return req, nil
}

// isClosedErr tells a normal end of the socket from a failure.
func isClosedErr(err error) bool {
	return errors.Is(err, context.Canceled) || websocket.CloseStatus(err) != -1
}

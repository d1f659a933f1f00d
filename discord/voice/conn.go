package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Frame is one 20 ms Opus packet for the voice channel, or a pause marker.
type Frame struct {
	// Opus is one Opus packet (48 kHz stereo, 20 ms), forwarded as is.
	Opus []byte
	// Timestamp is the packet's RTP timestamp at its origin (48 kHz clock).
	Timestamp uint32
	// Pause says playback paused: the sender sends five silence frames and
	// stops until the next audio frame. Opus is empty.
	Pause bool
}

// Source yields the frames to send. NextFrame blocks until a frame is
// available or ctx ends; an error other than ctx's ends the source.
type Source interface {
	NextFrame(ctx context.Context) (Frame, error)
}

// Params configure a Conn. Endpoint, ServerID, UserID, SessionID and Token
// come from the main gateway's VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE.
type Params struct {
	Endpoint  string // host:port, without scheme
	ServerID  string // guild id
	UserID    string
	SessionID string
	Token     string
	// HTTPClient dials the voice websocket (its TLS roots matter in tests).
	HTTPClient *http.Client
	// Modes lists acceptable encryption modes by preference; empty means
	// aead_aes256_gcm_rtpsize then aead_xchacha20_poly1305_rtpsize.
	Modes   []string
	Source  Source
	Logger  *slog.Logger
	Metrics *Metrics
}

// transport is what the sender needs from a negotiated session.
type transport struct {
	udp    *net.UDPConn
	ssrc   uint32
	sealer *sealer
}

// Conn is one voice connection. Run owns it; Conn is not reusable.
type Conn struct {
	p   Params
	log *slog.Logger
	m   *Metrics

	seq atomic.Int64 // last server sequence number seen, -1 before any

	mu        sync.Mutex
	ws        *websocket.Conn // current websocket once ready, nil otherwise
	tr        *transport
	trReady   chan struct{} // closed when tr is first set
	speaking  bool          // sender wants the speaking flag on
	spokenFor *transport    // Speaking(1) was sent for this transport's SSRC
}

// New returns a Conn for p; Run connects it.
func New(p Params) (*Conn, error) {
	if p.Endpoint == "" || p.ServerID == "" || p.UserID == "" || p.SessionID == "" || p.Token == "" {
		return nil, fmt.Errorf("%w: missing endpoint, server, user, session or token", ErrProtocol)
	}
	if p.Source == nil {
		return nil, errors.New("voice: nil Source")
	}
	if p.HTTPClient == nil {
		p.HTTPClient = http.DefaultClient
	}
	if len(p.Modes) == 0 {
		p.Modes = []string{ModeAES256GCM, ModeXChaCha20Poly1305}
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	if p.Metrics == nil {
		p.Metrics, _ = NewMetrics(nil)
	}
	c := &Conn{p: p, log: p.Logger.With("component", "voice", "guild", p.ServerID), m: p.Metrics, trReady: make(chan struct{})}
	c.seq.Store(-1)
	return c, nil
}

// Run connects, sends audio from the Source and reconnects as the close codes
// allow. It returns nil when ctx ends, a *CloseError on a final close code, or
// an error when reconnecting keeps failing.
func (c *Conn) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	frames := make(chan Frame, frameQueueCap)
	var wg sync.WaitGroup
	wg.Go(func() { c.pump(ctx, frames) })
	wg.Go(func() { c.send(ctx, frames) })
	err := c.gatewayLoop(ctx)
	cancel()
	wg.Wait()
	c.mu.Lock()
	if c.tr != nil {
		_ = c.tr.udp.Close()
	}
	c.mu.Unlock()
	if ctx.Err() != nil && err != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// pump moves frames from the Source into the sender's queue.
func (c *Conn) pump(ctx context.Context, frames chan<- Frame) {
	for {
		f, err := c.p.Source.NextFrame(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Info("audio source ended", "err", err)
			}
			return
		}
		select {
		case frames <- f:
		case <-ctx.Done():
			return
		}
	}
}

// gatewayLoop runs websocket sessions until a final close code or ctx ends.
func (c *Conn) gatewayLoop(ctx context.Context) error {
	action := actionIdentify
	failures := 0
	for {
		res := c.session(ctx, action)
		if ctx.Err() != nil {
			return nil
		}
		c.log.Info("voice websocket closed", "code", res.code, "reason", res.reason, "err", res.err, "resumed", res.established)
		next := classifyClose(res.code)
		if next == actionStop {
			return &CloseError{Code: res.code, Reason: res.reason}
		}
		if action == actionResume && !res.established && res.code >= 4000 {
			// "If the resume is unsuccessful ... follow the Connecting flow."
			next = actionIdentify
		}
		if res.established {
			failures = 0
		} else {
			failures++
		}
		if failures > maxFailures {
			return fmt.Errorf("voice: giving up after %d failed connects: %w", failures, res.err)
		}
		kind := "resume"
		if next == actionIdentify {
			kind = "identify"
		}
		c.m.reconnects.WithLabelValues(kind).Inc()
		action = next
		delay := time.Duration(1<<min(failures, 6)) * 50 * time.Millisecond
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

const maxFailures = 8

// setWS records the websocket that is ready for Speaking updates, or nil.
func (c *Conn) setWS(ws *websocket.Conn) {
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
}

// setTransport publishes a negotiated transport to the sender.
func (c *Conn) setTransport(tr *transport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tr != nil && c.tr.udp != tr.udp {
		_ = c.tr.udp.Close()
	}
	first := c.tr == nil
	c.tr = tr
	if first {
		close(c.trReady)
	}
}

func (c *Conn) transport() *transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr
}

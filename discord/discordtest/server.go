// Package discordtest is a fake Discord for tests. It speaks the real wire
// protocols over TLS on loopback: the main gateway (JSON over websocket, API
// v9), the REST routes the bot uses, the voice gateway v8 and the voice UDP
// side, where it runs IP discovery, decrypts the AEAD "RTP size" packets and
// checks the Opus frames and their pacing.
//
// Nothing here touches discordgo's package-level endpoint variables. The
// fake's HTTPClient rewrites requests for https://discord.com/ to the fake
// (and trusts its certificate); GET /api/v9/gateway then answers with the
// fake's own wss:// URL and VOICE_SERVER_UPDATE with its own host:port, so
// the websocket dialers only need TLSConfig.
package discordtest

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Options configure the fake's guild. Zero values get sensible defaults.
type Options struct {
	Token          string // bot token the fake accepts
	ApplicationID  string
	BotUserID      string
	GuildID        string
	TextChannelID  string
	StageChannelID string
	VoiceChannelID string // a normal voice channel: DAVE required, closes 4017
	// HeartbeatInterval for both gateways; default 1 s.
	HeartbeatInterval time.Duration
	// VoiceModes offered in voice Ready; default both rtpsize AEAD modes.
	VoiceModes []string
}

func (o *Options) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.Token, "test-bot-token")
	def(&o.ApplicationID, "100000000000000001")
	def(&o.BotUserID, "100000000000000002")
	def(&o.GuildID, "200000000000000001")
	def(&o.TextChannelID, "300000000000000001")
	def(&o.StageChannelID, "300000000000000002")
	def(&o.VoiceChannelID, "300000000000000003")
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if len(o.VoiceModes) == 0 {
		o.VoiceModes = []string{"aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"}
	}
}

// Server is a running fake Discord.
type Server struct {
	opts Options
	srv  *httptest.Server
	udp  *net.UDPConn
	wg   sync.WaitGroup

	mu              sync.Mutex
	st              State
	conns           map[*websocket.Conn]struct{}
	gw              *gatewayConn
	voice           *voiceConn
	vsess           map[string]*voiceSession // by session id
	keys            map[uint32]*voiceSession // by ssrc
	ids             int64
	curVoiceSession string
	rejectResumes   bool
	notify          chan struct{} // closed and replaced on every state change
}

// New starts a fake Discord on loopback.
func New(opts Options) (*Server, error) {
	opts.defaults()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = udp.SetReadBuffer(4 << 20)
	s := &Server{opts: opts, udp: udp, conns: map[*websocket.Conn]struct{}{}, vsess: map[string]*voiceSession{},
		keys: map[uint32]*voiceSession{}, ids: 900000000000000000, notify: make(chan struct{})}
	s.st.voiceStatePatchStatus = http.StatusNoContent
	mux := http.NewServeMux()
	mux.HandleFunc("/gateway/", s.serveGateway)
	mux.HandleFunc("/api/", s.serveREST)
	mux.HandleFunc("/", s.serveVoice)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.StartTLS()
	s.wg.Go(s.serveUDP)
	return s, nil
}

// Close stops the fake and waits for its goroutines.
func (s *Server) Close() {
	s.srv.Close()
	_ = s.udp.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.CloseNow()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.srv.Client().CloseIdleConnections()
}

// Options returns the fake's effective options (ids, token).
func (s *Server) Options() Options { return s.opts }

// TLSConfig trusts the fake's certificate; give it to websocket dialers.
func (s *Server) TLSConfig() *tls.Config {
	return s.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
}

// HTTPClient sends requests for https://discord.com/ to the fake and trusts
// its certificate. Use it for REST and for the voice websocket.
func (s *Server) HTTPClient() *http.Client {
	base := s.srv.Client().Transport.(*http.Transport)
	u, _ := url.Parse(s.srv.URL)
	return &http.Client{Transport: &rewrite{base: base, host: u.Host}, Timeout: 10 * time.Second}
}

// rewrite points discord.com requests at the fake.
type rewrite struct {
	base *http.Transport
	host string
}

// RoundTrip rewrites the host of discord.com requests.
func (r *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "discord.com" {
		req = req.Clone(req.Context())
		req.URL.Host = r.host
		req.Host = r.host
	}
	return r.base.RoundTrip(req)
}

// CloseIdleConnections lets clients drop pooled connections (goleak).
func (r *rewrite) CloseIdleConnections() { r.base.CloseIdleConnections() }

// addr is the fake's host:port.
func (s *Server) addr() string {
	u, _ := url.Parse(s.srv.URL)
	return u.Host
}

// track registers a websocket so Close can end it.
func (s *Server) track(c *websocket.Conn) func() {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
}

// newID returns a fresh snowflake-looking id. Callers hold s.mu.
func (s *Server) newID() string {
	s.ids++
	return itoa(s.ids)
}

// changed wakes Wait callers. Callers hold s.mu.
func (s *Server) changed() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// ErrTimeout is returned by Wait when the condition never held.
var ErrTimeout = errors.New("discordtest: timed out waiting")

// Wait blocks until cond holds on a snapshot of the fake's state or timeout
// passes. cond must not block.
func (s *Server) Wait(timeout time.Duration, cond func(*State) bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		snap := s.st.snapshot()
		ch := s.notify
		s.mu.Unlock()
		if cond(snap) {
			return nil
		}
		select {
		case <-ch:
		case <-deadline.C:
			return ErrTimeout
		}
	}
}

// Snapshot returns a copy of the recorded state.
func (s *Server) Snapshot() *State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.snapshot()
}

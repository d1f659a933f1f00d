// Package dtlskeys learns the SRTP master keys and salts that a pion
// webrtc.PeerConnection derives from its DTLS handshake (RFC 5764 §4.2), so
// that SRTP and SRTCP for that connection can be protected outside pion with
// srtp.CreateContext.
//
// pion does not hand the DTLS connection state to webrtc users, so the
// inputs of the DTLS-SRTP exporter are collected from public taps:
//
//   - the DTLS key log (SettingEngine.SetDTLSKeyLogWriter) gives the client
//     random and the master secret (the extended one when EMS is in use);
//   - the ServerHello hook, when this side is the DTLS server, gives the
//     server random, the cipher suite (hence the PRF hash) and the SRTP
//     protection profile;
//   - the ClientHello hook marks a handshake in which this side is the DTLS
//     client. Then nothing public exposes the peer's ServerHello, so the
//     caller must pass inbound datagrams to ObserveDatagram, which reads the
//     (unencrypted) ServerHello.
//
// Keys then computes PRF(master_secret, "EXTRACTOR-dtls_srtp",
// client_random || server_random) (RFC 5705 §4, RFC 5246 §5).
package dtlskeys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"sync"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/protocol"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/dtls/v3/pkg/protocol/recordlayer"
	"github.com/pion/webrtc/v4"
)

// Errors returned by Capture.Keys.
var (
	// ErrNoHandshake means no DTLS handshake has started on the Capture.
	ErrNoHandshake = errors.New("dtlskeys: no DTLS handshake seen")
	// ErrHandshakeIncomplete means a handshake started but its master
	// secret is not known yet.
	ErrHandshakeIncomplete = errors.New("dtlskeys: DTLS handshake not finished")
	// ErrNoServerHello means this side is the DTLS client and the peer's
	// ServerHello was never passed to ObserveDatagram.
	ErrNoServerHello = errors.New("dtlskeys: DTLS client never observed the ServerHello (see ObserveDatagram)")
	// ErrProfileUnknown means the handshake negotiated no SRTP protection
	// profile, or one this package does not map to srtp.
	ErrProfileUnknown = errors.New("dtlskeys: SRTP protection profile unknown")
	// ErrUnsupportedSuite means the negotiated cipher suite is not one whose
	// PRF hash this package knows.
	ErrUnsupportedSuite = errors.New("dtlskeys: unsupported DTLS cipher suite")
)

// maxLogLine bounds a buffered, unterminated key-log line.
const maxLogLine = 4096

// Capture learns one DTLS connection's SRTP keys. Use one per PeerConnection,
// that is one per SettingEngine (and so per webrtc.API): the hooks it installs
// cannot tell connections apart. It is safe for concurrent use. If several
// handshakes run on one Capture, the most recently completed one wins.
type Capture struct {
	mu      sync.Mutex
	partial []byte   // unterminated key-log line
	cur     *session // latest handshake started
	done    *session // latest handshake completed; never modified again
}

// session collects the exporter inputs of one handshake.
type session struct {
	isClient     bool
	helloRandom  []byte // random of the ClientHello we sent (client only)
	serverRandom []byte
	suite        dtls.CipherSuiteID
	profile      dtls.SRTPProtectionProfile // 0 if none
	clientRandom []byte                     // from the key log
	masterSecret []byte                     // from the key log
}

func (s *session) complete() bool { return s.serverRandom != nil && s.masterSecret != nil }

// New returns an empty Capture.
func New() *Capture { return &Capture{} }

// Apply installs the Capture on se: a DTLS key-log writer and the
// ClientHello and ServerHello hooks. It replaces any key-log writer or hello
// hook set on se before. pion meant the key log for debugging; here it never
// leaves memory: the Capture is the writer, it keeps the secrets only as
// long as the connection's API, and nothing it holds is ever logged. When this side may be the DTLS client, also feed
// inbound datagrams to ObserveDatagram.
func (c *Capture) Apply(se *webrtc.SettingEngine) {
	se.SetDTLSKeyLogWriter(keyLog{c})
	se.SetDTLSClientHelloMessageHook(c.clientHello)
	se.SetDTLSServerHelloMessageHook(c.serverHello)
}

// clientHello starts a client-side handshake. pion sends a second
// ClientHello with the same random after a HelloVerifyRequest; that one
// continues the current handshake.
func (c *Capture) clientHello(m handshake.MessageClientHello) handshake.Message {
	r := m.Random.MarshalFixed()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.cur; s == nil || !s.isClient || s.masterSecret != nil || !bytes.Equal(s.helloRandom, r[:]) {
		c.cur = &session{isClient: true, helloRandom: r[:]}
	}
	return &m
}

// serverHello starts a server-side handshake and records what the
// ServerHello carries.
func (c *Capture) serverHello(m handshake.MessageServerHello) handshake.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cur = &session{}
	c.cur.setServerHello(&m)
	return &m
}

// setServerHello records the server random, cipher suite and SRTP profile.
func (s *session) setServerHello(m *handshake.MessageServerHello) {
	r := m.Random.MarshalFixed()
	s.serverRandom = r[:]
	s.suite = 0
	if m.CipherSuiteID != nil {
		s.suite = dtls.CipherSuiteID(*m.CipherSuiteID)
	}
	s.profile = 0
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			s.profile = u.ProtectionProfiles[0]
		}
	}
}

// ObserveDatagram inspects one datagram received from the DTLS peer and
// records the ServerHello if it holds one (an unfragmented ServerHello in an
// epoch-0 handshake record, which is what pion and browsers send). It is
// needed only when this side is the DTLS client; other datagrams are ignored
// cheaply. b is not retained. Feed only datagrams from this connection's
// peer: a ServerHello of another connection would be taken for this one's.
func (c *Capture) ObserveDatagram(b []byte) {
	m, ok := findServerHello(b)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.cur
	if s == nil || !s.isClient || s.complete() {
		return
	}
	s.setServerHello(m)
	c.promote(s)
}

// findServerHello returns the ServerHello carried by datagram b, if any.
func findServerHello(b []byte) (*handshake.MessageServerHello, bool) {
	if len(b) <= recordlayer.FixedHeaderSize || b[0] != byte(protocol.ContentTypeHandshake) {
		return nil, false
	}
	records, err := recordlayer.UnpackDatagram(b)
	if err != nil {
		return nil, false
	}
	for _, rec := range records {
		var h recordlayer.Header
		if h.Unmarshal(rec) != nil || h.ContentType != protocol.ContentTypeHandshake || h.Epoch != 0 {
			continue
		}
		body := rec[recordlayer.FixedHeaderSize:]
		for len(body) >= handshake.HeaderLength {
			var hh handshake.Header
			if hh.Unmarshal(body) != nil {
				break
			}
			end := handshake.HeaderLength + int(hh.FragmentLength)
			if end > len(body) {
				break
			}
			if hh.Type == handshake.TypeServerHello && hh.FragmentOffset == 0 && hh.FragmentLength == hh.Length {
				var m handshake.MessageServerHello
				if m.Unmarshal(body[handshake.HeaderLength:end]) == nil {
					return &m, true
				}
			}
			body = body[end:]
		}
	}
	return nil, false
}

// keyLog receives pion's NSS-format key log ("CLIENT_RANDOM <cr> <ms>").
type keyLog struct{ c *Capture }

// Write buffers p and handles every complete line in it.
func (k keyLog) Write(p []byte) (int, error) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := append(c.partial, p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		c.keyLogLine(string(buf[:i]))
		buf = buf[i+1:]
	}
	c.partial = nil
	if len(buf) > 0 && len(buf) <= maxLogLine {
		c.partial = append([]byte(nil), buf...)
	}
	return len(p), nil
}

// keyLogLine completes the current handshake with one key-log line.
func (c *Capture) keyLogLine(line string) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
		return
	}
	cr, err1 := hex.DecodeString(f[1])
	ms, err2 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil || len(cr) != handshake.RandomLength || len(ms) == 0 {
		return
	}
	s := c.cur
	if s == nil || s.masterSecret != nil || (s.isClient && !bytes.Equal(s.helloRandom, cr)) {
		return
	}
	s.clientRandom, s.masterSecret = cr, ms
	c.promote(s)
}

// promote makes s the reported handshake once it is complete.
func (c *Capture) promote(s *session) {
	if s.complete() {
		c.done = s
	}
}

// Keys returns the SRTP keys of the most recently completed handshake. Call
// it once the DTLS handshake is done (for example once the PeerConnection is
// connected); before that, it says why the keys are not known.
func (c *Capture) Keys() (Keys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done.keys()
	}
	switch s := c.cur; {
	case s == nil:
		return Keys{}, ErrNoHandshake
	case s.isClient && s.serverRandom == nil && s.masterSecret != nil:
		return Keys{}, ErrNoServerHello
	default:
		return Keys{}, ErrHandshakeIncomplete
	}
}

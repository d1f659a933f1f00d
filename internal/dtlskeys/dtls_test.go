package dtlskeys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
)

// dtlsSetup configures one raw pion/dtls handshake.
type dtlsSetup struct {
	suite    dtls.CipherSuiteID
	certs    [2]tls.Certificate // client, server
	ems      dtls.ExtendedMasterSecretType
	profiles []dtls.SRTPProtectionProfile
	observe  bool // feed the client's inbound datagrams to its Capture
}

// handshakeDTLS runs a dtls handshake over loopback UDP with cc installed on
// the client and sc on the server, and returns both connection states.
func handshakeDTLS(t *testing.T, cfg dtlsSetup, cc, sc *Capture) (client, server *dtls.State) {
	t.Helper()
	cconn, sconn := listenUDP(t), listenUDP(t)
	var cpc net.PacketConn = cconn
	if cfg.observe {
		cpc = &observedConn{PacketConn: cconn, observe: func(b []byte, _ net.Addr) { cc.ObserveDatagram(b) }}
	}
	shared := []dtls.Option{
		dtls.WithCipherSuites(cfg.suite),
		dtls.WithSRTPProtectionProfiles(cfg.profiles...),
		dtls.WithExtendedMasterSecret(cfg.ems),
		dtls.WithInsecureSkipVerify(true),
	}
	copts := []dtls.ClientOption{dtls.WithCertificates(cfg.certs[0]),
		dtls.WithKeyLogWriter(keyLog{cc}), dtls.WithClientHelloMessageHook(cc.clientHello)}
	sopts := []dtls.ServerOption{dtls.WithCertificates(cfg.certs[1]),
		dtls.WithKeyLogWriter(keyLog{sc}), dtls.WithServerHelloMessageHook(sc.serverHello)}
	for _, o := range shared {
		copts, sopts = append(copts, o), append(sopts, o)
	}
	sconnDTLS, err := dtls.ServerWithOptions(sconn, cconn.LocalAddr(), sopts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sconnDTLS.Close() })
	cconnDTLS, err := dtls.ClientWithOptions(cpc, sconn.LocalAddr(), copts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cconnDTLS.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serverErr := make(chan error, 1)
	go func() { serverErr <- sconnDTLS.HandshakeContext(ctx) }()
	if err := cconnDTLS.HandshakeContext(ctx); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-serverErr; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	cs, ok1 := cconnDTLS.ConnectionState()
	ss, ok2 := sconnDTLS.ConnectionState()
	if !ok1 || !ok2 {
		t.Fatal("no connection state")
	}
	if cs.CipherSuiteID != cfg.suite {
		t.Fatalf("negotiated %v, want %v", cs.CipherSuiteID, cfg.suite)
	}
	return &cs, &ss
}

// checkKeys compares k with pion's own DTLS-SRTP exporter on st, the state
// of the same side.
func checkKeys(t *testing.T, side string, k Keys, st *dtls.State, isClient bool, want srtp.ProtectionProfile) {
	t.Helper()
	if k.Profile != want || k.IsClient != isClient {
		t.Fatalf("%s: profile %v client %v, want %v %v", side, k.Profile, k.IsClient, want, isClient)
	}
	kl, _ := want.KeyLen()
	sl, _ := want.SaltLen()
	km, err := st.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 2*(kl+sl))
	if err != nil {
		t.Fatal(err)
	}
	ck, sk, cs, ss := km[:kl], km[kl:2*kl], km[2*kl:2*kl+sl], km[2*kl+sl:]
	if !isClient {
		ck, sk, cs, ss = sk, ck, ss, cs
	}
	for _, p := range []struct {
		name      string
		got, want []byte
	}{{"local key", k.LocalKey, ck}, {"local salt", k.LocalSalt, cs}, {"remote key", k.RemoteKey, sk}, {"remote salt", k.RemoteSalt, ss}} {
		if !bytes.Equal(p.got, p.want) {
			t.Errorf("%s %s: got %x, pion exports %x", side, p.name, p.got, p.want)
		}
	}
}

// TestKeysMatchPionExporter checks, on both ends of real handshakes, that
// the derived keys equal pion's ExportKeyingMaterial.
func TestKeysMatchPionExporter(t *testing.T) {
	ecdsa1, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	ecdsa2, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaCert, err := selfsign.SelfSign(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	ecdsaCerts, rsaCerts := [2]tls.Certificate{ecdsa1, ecdsa2}, [2]tls.Certificate{rsaCert, rsaCert}
	cases := []struct {
		name string
		cfg  dtlsSetup
		want srtp.ProtectionProfile
	}{
		{"ecdsa-aes128gcm-ems", dtlsSetup{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecdsaCerts, dtls.RequireExtendedMasterSecret,
			[]dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80}, true}, srtp.ProtectionProfileAeadAes128Gcm},
		{"ecdsa-aes256gcm-sha384-ems", dtlsSetup{dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ecdsaCerts, dtls.RequireExtendedMasterSecret,
			[]dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80}, true}, srtp.ProtectionProfileAes128CmHmacSha1_80},
		{"ecdsa-aes256cbc-noems", dtlsSetup{dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, ecdsaCerts, dtls.DisableExtendedMasterSecret,
			[]dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_256_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_32}, true}, srtp.ProtectionProfileAeadAes256Gcm},
		{"ecdsa-chacha20-ems", dtlsSetup{dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ecdsaCerts, dtls.RequestExtendedMasterSecret,
			[]dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_32}, true}, srtp.ProtectionProfileAes128CmHmacSha1_32},
		{"rsa-aes128gcm-ems", dtlsSetup{dtls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, rsaCerts, dtls.RequireExtendedMasterSecret,
			[]dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM}, true}, srtp.ProtectionProfileAeadAes128Gcm},
		{"rsa-aes256gcm-sha384-ems", dtlsSetup{dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, rsaCerts, dtls.RequireExtendedMasterSecret,
			[]dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_256_GCM}, true}, srtp.ProtectionProfileAeadAes256Gcm},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cc, sc := New(), New()
			cs, ss := handshakeDTLS(t, tc.cfg, cc, sc)
			ck, err := cc.Keys()
			if err != nil {
				t.Fatalf("client keys: %v", err)
			}
			sk, err := sc.Keys()
			if err != nil {
				t.Fatalf("server keys: %v", err)
			}
			checkKeys(t, "client", ck, cs, true, tc.want)
			checkKeys(t, "server", sk, ss, false, tc.want)
		})
	}
}

// TestLatestHandshakeWins runs two handshakes on the same Captures.
func TestLatestHandshakeWins(t *testing.T) {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	cfg := dtlsSetup{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, [2]tls.Certificate{cert, cert}, dtls.RequireExtendedMasterSecret,
		[]dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80}, true}
	cc, sc := New(), New()
	handshakeDTLS(t, cfg, cc, sc)
	first, err := sc.Keys()
	if err != nil {
		t.Fatal(err)
	}
	cfg.suite = dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	cfg.profiles = []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM}
	cs, ss := handshakeDTLS(t, cfg, cc, sc)
	ck, err := cc.Keys()
	if err != nil {
		t.Fatal(err)
	}
	sk, err := sc.Keys()
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "client", ck, cs, true, srtp.ProtectionProfileAeadAes128Gcm)
	checkKeys(t, "server", sk, ss, false, srtp.ProtectionProfileAeadAes128Gcm)
	if bytes.Equal(first.RemoteKey, sk.RemoteKey[:len(first.RemoteKey)]) {
		t.Fatal("second handshake reported the first one's keys")
	}
}

// TestClientNeedsServerHello: a DTLS client whose inbound datagrams are not
// observed cannot know the server random.
func TestClientNeedsServerHello(t *testing.T) {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	cfg := dtlsSetup{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, [2]tls.Certificate{cert, cert}, dtls.RequireExtendedMasterSecret,
		[]dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM}, false}
	cc, sc := New(), New()
	_, ss := handshakeDTLS(t, cfg, cc, sc)
	if _, err := cc.Keys(); !errors.Is(err, ErrNoServerHello) {
		t.Fatalf("client Keys error %v, want ErrNoServerHello", err)
	}
	sk, err := sc.Keys()
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "server", sk, ss, false, srtp.ProtectionProfileAeadAes128Gcm)
}

// TestKeysBeforeHandshake checks the errors reported before keys are known.
func TestKeysBeforeHandshake(t *testing.T) {
	c := New()
	if _, err := c.Keys(); !errors.Is(err, ErrNoHandshake) {
		t.Fatalf("fresh Capture: %v, want ErrNoHandshake", err)
	}
	c.clientHello(handshake.MessageClientHello{})
	if _, err := c.Keys(); !errors.Is(err, ErrHandshakeIncomplete) {
		t.Fatalf("after ClientHello: %v, want ErrHandshakeIncomplete", err)
	}
	c.serverHello(serverHello(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256))
	if _, err := c.Keys(); !errors.Is(err, ErrHandshakeIncomplete) {
		t.Fatalf("after ServerHello: %v, want ErrHandshakeIncomplete", err)
	}
	c.serverHello(serverHello(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0))
	logLine(t, c, bytes.Repeat([]byte{1}, 32))
	if _, err := c.Keys(); !errors.Is(err, ErrProfileUnknown) {
		t.Fatalf("no use_srtp: %v, want ErrProfileUnknown", err)
	}
}

// TestKeyLogSplitWrites feeds the key log in small pieces, with a foreign
// line before it.
func TestKeyLogSplitWrites(t *testing.T) {
	whole, split := New(), New()
	cr := bytes.Repeat([]byte{7}, 32)
	for _, c := range []*Capture{whole, split} {
		c.serverHello(serverHello(dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, dtls.SRTP_AEAD_AES_256_GCM))
	}
	logLine(t, whole, cr)
	line := []byte("# comment\nCLIENT_RANDOM " + hex.EncodeToString(cr) + " " + hex.EncodeToString(bytes.Repeat([]byte{9}, 48)) + "\n")
	for len(line) > 0 {
		n := min(7, len(line))
		if _, err := (keyLog{split}).Write(line[:n]); err != nil {
			t.Fatal(err)
		}
		line = line[n:]
	}
	a, err := whole.Keys()
	if err != nil {
		t.Fatal(err)
	}
	b, err := split.Keys()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.LocalKey, b.LocalKey) || !bytes.Equal(a.RemoteSalt, b.RemoteSalt) || len(a.LocalKey) != 32 {
		t.Fatalf("split key log gave different keys: %x vs %x", a.LocalKey, b.LocalKey)
	}
}

// serverHello builds a ServerHello with a fixed random and, if given, a
// use_srtp extension.
func serverHello(suite dtls.CipherSuiteID, profiles ...dtls.SRTPProtectionProfile) handshake.MessageServerHello {
	id := uint16(suite)
	m := handshake.MessageServerHello{CipherSuiteID: &id}
	m.Random.RandomBytes[0] = 1
	if len(profiles) > 0 {
		m.Extensions = []extension.Extension{&extension.UseSRTP{ProtectionProfiles: profiles}}
	}
	return m
}

// logLine writes one key-log line with client random cr.
func logLine(t *testing.T, c *Capture, cr []byte) {
	t.Helper()
	line := "CLIENT_RANDOM " + hex.EncodeToString(cr) + " " + hex.EncodeToString(bytes.Repeat([]byte{9}, 48)) + "\n"
	if _, err := (keyLog{c}).Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
}

package dtlskeys

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/srtp/v3"
)

// exporterLabel is the DTLS-SRTP exporter label (RFC 5764 §4.2).
const exporterLabel = "EXTRACTOR-dtls_srtp"

// Keys are the SRTP master keys and salts of one DTLS-SRTP handshake.
// "Local" protects what this side sends, "Remote" what it receives.
type Keys struct {
	// Profile is the negotiated SRTP protection profile.
	Profile srtp.ProtectionProfile
	// LocalKey and LocalSalt are this side's write master key and salt.
	LocalKey, LocalSalt []byte
	// RemoteKey and RemoteSalt are the peer's write master key and salt.
	RemoteKey, RemoteSalt []byte
	// IsClient reports whether this side was the DTLS client.
	IsClient bool
}

// Contexts builds the two contexts Marquee needs: local encrypts what this
// side sends (SRTP and SRTCP, local key), remote decrypts what it receives
// (remote key). opts apply to both; srtp.CreateContext defaults to no replay
// protection.
func (k Keys) Contexts(opts ...srtp.ContextOption) (local, remote *srtp.Context, err error) {
	local, err = srtp.CreateContext(k.LocalKey, k.LocalSalt, k.Profile, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("dtlskeys: local SRTP context: %w", err)
	}
	remote, err = srtp.CreateContext(k.RemoteKey, k.RemoteSalt, k.Profile, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("dtlskeys: remote SRTP context: %w", err)
	}
	return local, remote, nil
}

// keys runs the DTLS-SRTP exporter on a completed session and splits its
// output (RFC 5764 §4.2): client key | server key | client salt | server salt.
func (s *session) keys() (Keys, error) {
	profile, err := srtpProfile(s.profile)
	if err != nil {
		return Keys{}, err
	}
	hash, err := prfHash(s.suite)
	if err != nil {
		return Keys{}, err
	}
	keyLen, err := profile.KeyLen()
	if err != nil {
		return Keys{}, fmt.Errorf("dtlskeys: key length: %w", err)
	}
	saltLen, err := profile.SaltLen()
	if err != nil {
		return Keys{}, fmt.Errorf("dtlskeys: salt length: %w", err)
	}
	seed := make([]byte, 0, len(exporterLabel)+len(s.clientRandom)+len(s.serverRandom))
	seed = append(append(append(seed, exporterLabel...), s.clientRandom...), s.serverRandom...)
	km, err := prf.PHash(s.masterSecret, seed, 2*(keyLen+saltLen), hash)
	if err != nil {
		return Keys{}, fmt.Errorf("dtlskeys: exporter: %w", err)
	}
	part := func(i, n int) []byte { return km[i : i+n : i+n] }
	clientKey, serverKey := part(0, keyLen), part(keyLen, keyLen)
	clientSalt, serverSalt := part(2*keyLen, saltLen), part(2*keyLen+saltLen, saltLen)
	k := Keys{Profile: profile, IsClient: s.isClient}
	if s.isClient {
		k.LocalKey, k.LocalSalt, k.RemoteKey, k.RemoteSalt = clientKey, clientSalt, serverKey, serverSalt
	} else {
		k.LocalKey, k.LocalSalt, k.RemoteKey, k.RemoteSalt = serverKey, serverSalt, clientKey, clientSalt
	}
	return k, nil
}

// srtpProfile maps a negotiated DTLS-SRTP profile to pion/srtp's.
func srtpProfile(p dtls.SRTPProtectionProfile) (srtp.ProtectionProfile, error) {
	switch p {
	case dtls.SRTP_AEAD_AES_128_GCM:
		return srtp.ProtectionProfileAeadAes128Gcm, nil
	case dtls.SRTP_AEAD_AES_256_GCM:
		return srtp.ProtectionProfileAeadAes256Gcm, nil
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		return srtp.ProtectionProfileAes128CmHmacSha1_80, nil
	case dtls.SRTP_AES128_CM_HMAC_SHA1_32:
		return srtp.ProtectionProfileAes128CmHmacSha1_32, nil
	case 0:
		return 0, fmt.Errorf("%w: the ServerHello carried no single use_srtp profile", ErrProfileUnknown)
	default:
		return 0, fmt.Errorf("%w: 0x%04x", ErrProfileUnknown, uint16(p))
	}
}

// prfHash returns the PRF hash of the certificate-based ECDHE suites pion
// implements: SHA-384 for the *_SHA384 suites, SHA-256 otherwise (including
// the CBC_SHA suites, whose TLS 1.2 PRF is SHA-256).
func prfHash(id dtls.CipherSuiteID) (prf.HashFunc, error) {
	switch id {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return sha512.New384, nil
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, dtls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		dtls.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8:
		return sha256.New, nil
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedSuite, dtls.CipherSuiteName(id))
	}
}

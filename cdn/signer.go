package cdn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// MinSecretLen is the shortest URL signing secret a Signer accepts. The dev
// secret "devurlsecret" is exactly this long; production deployments should
// use 32 random bytes.
const MinSecretLen = 12

// signVersion prefixes every MAC input so a future scheme cannot be confused
// with this one.
const signVersion = "marquee-cdn-v1"

// Signer makes and checks expiring viewer URLs for CDN nodes. The control
// plane and every CDN node hold the same secret; the HMAC-SHA256 (RFC 2104)
// covers the URL path and the expiry only, so any node can verify a link
// that the API minted and the cache key never depends on who asked.
//
// A Signer is safe for concurrent use.
type Signer struct {
	key []byte
	// also are keys Verify accepts besides key (see WithFallback).
	also [][]byte
}

// WithFallback returns a Signer that signs with s's key and verifies with
// it or with old's: a registered node checks URLs signed with its own URL
// key and, while the API still signs with the shared cdn.url_secret, those.
func (s *Signer) WithFallback(old *Signer) *Signer {
	return &Signer{key: s.key, also: append(append([][]byte(nil), s.also...), old.key)}
}

// NewSigner returns a Signer for secret, which must be at least MinSecretLen
// bytes (ErrWeakSecret otherwise). The secret is copied.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrWeakSecret, len(secret), MinSecretLen)
	}
	return &Signer{key: append([]byte(nil), secret...)}, nil
}

// Sign returns path, percent-encoded, followed by ?exp=<unix>&sig=<base64url>.
// path is the decoded URL path the viewer will request, such as
// /api/hls/42/seg00001.ts; the caller prefixes the CDN node's base URL.
func (s *Signer) Sign(path string, exp time.Time) string {
	e := exp.Unix()
	u := url.URL{Path: path}
	return u.EscapedPath() + "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + s.sig(path, e)
}

// Verify checks r's exp and sig query parameters against r.URL.Path. It
// returns ErrMissingSignature, ErrBadSignature (checked before the expiry,
// so a forger learns nothing from the answer) or ErrExpired.
func (s *Signer) Verify(r *http.Request, now time.Time) error {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("%w: unreadable query", ErrBadSignature)
	}
	exps, sigs := q["exp"], q["sig"]
	if len(exps) == 0 || len(sigs) == 0 {
		return ErrMissingSignature
	}
	if len(exps) != 1 || len(sigs) != 1 {
		return fmt.Errorf("%w: exp and sig must appear once", ErrBadSignature)
	}
	exp, err := strconv.ParseInt(exps[0], 10, 64)
	if err != nil || exps[0] != strconv.FormatInt(exp, 10) {
		return fmt.Errorf("%w: exp is not a canonical unix time", ErrBadSignature)
	}
	got, err := base64.RawURLEncoding.DecodeString(sigs[0])
	if err != nil {
		return fmt.Errorf("%w: sig is not base64url", ErrBadSignature)
	}
	if !s.matches(got, r.URL.Path, exp) {
		return ErrBadSignature
	}
	if now.Unix() > exp {
		return fmt.Errorf("%w at %s", ErrExpired, time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

func (s *Signer) matches(got []byte, path string, exp int64) bool {
	ok := hmac.Equal(got, s.mac(path, exp))
	for _, k := range s.also {
		ok = hmac.Equal(got, (&Signer{key: k}).mac(path, exp)) || ok
	}
	return ok
}

func (s *Signer) sig(path string, exp int64) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(path, exp))
}

// mac is HMAC-SHA256 over version, path and expiry, newline-separated; a
// path cannot contain a newline that survives the node's path checks.
func (s *Signer) mac(path string, exp int64) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(signVersion + "\n" + path + "\n" + strconv.FormatInt(exp, 10)))
	return m.Sum(nil)
}

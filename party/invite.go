package party

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Invite is what a verified invite token grants.
type Invite struct {
	PartyID   int64
	Role      Role
	ExpiresAt time.Time
	// Epoch is the party's invite epoch at minting; RevokeInvites bumps it.
	Epoch uint32
	Nonce [8]byte
}

// Invite token layout (version 1), base64url without padding:
//
//	payload = ver(1)=1 | partyID(8, big-endian) | role(1) | expiresUnix(8) | epoch(4) | nonce(8)
//	token   = b64(payload) "." b64(HMAC-SHA256(key, "marquee-invite-v1" | payload))
//
// The domain-separation prefix keeps this MAC from being confused with any
// other the same key might sign (RFC 2104 says nothing of it; it is cheap).
const (
	inviteVersion  = 1
	invitePayload  = 1 + 8 + 1 + 8 + 4 + 8
	inviteMACLabel = "marquee-invite-v1"
)

var roleCodes = map[Role]byte{RoleListener: 1, RoleCohost: 2}

// SignInvite returns a token for inv, signed with key.
func SignInvite(key []byte, inv Invite) (string, error) {
	code, ok := roleCodes[inv.Role]
	if !ok {
		return "", fmt.Errorf("%w: invite role must be listener or cohost", ErrInvalid)
	}
	if inv.Nonce == [8]byte{} {
		if _, err := rand.Read(inv.Nonce[:]); err != nil {
			return "", fmt.Errorf("party: invite nonce: %w", err)
		}
	}
	p := make([]byte, invitePayload)
	p[0] = inviteVersion
	binary.BigEndian.PutUint64(p[1:9], uint64(inv.PartyID))
	p[9] = code
	binary.BigEndian.PutUint64(p[10:18], uint64(inv.ExpiresAt.Unix()))
	binary.BigEndian.PutUint32(p[18:22], inv.Epoch)
	copy(p[22:30], inv.Nonce[:])
	enc := base64.RawURLEncoding
	return enc.EncodeToString(p) + "." + enc.EncodeToString(inviteMAC(key, p)), nil
}

func inviteMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(inviteMACLabel))
	m.Write(payload)
	return m.Sum(nil)
}

// VerifyInvite checks token's signature with key, then its expiry against
// now. It returns ErrInviteInvalid for anything forged or malformed and
// ErrInviteExpired for a genuine token past its time.
func VerifyInvite(key []byte, token string, now time.Time) (Invite, error) {
	var inv Invite
	ps, ms, ok := strings.Cut(token, ".")
	if !ok || len(token) > 200 {
		return inv, ErrInviteInvalid
	}
	enc := base64.RawURLEncoding
	p, err1 := enc.DecodeString(ps)
	mac, err2 := enc.DecodeString(ms)
	if err1 != nil || err2 != nil || len(p) != invitePayload {
		return inv, ErrInviteInvalid
	}
	if !hmac.Equal(mac, inviteMAC(key, p)) {
		return inv, ErrInviteInvalid
	}
	if p[0] != inviteVersion {
		return inv, ErrInviteInvalid
	}
	inv.PartyID = int64(binary.BigEndian.Uint64(p[1:9]))
	for r, c := range roleCodes {
		if c == p[9] {
			inv.Role = r
		}
	}
	if inv.Role == "" || inv.PartyID <= 0 {
		return inv, ErrInviteInvalid
	}
	inv.ExpiresAt = time.Unix(int64(binary.BigEndian.Uint64(p[10:18])), 0)
	inv.Epoch = binary.BigEndian.Uint32(p[18:22])
	copy(inv.Nonce[:], p[22:30])
	if !now.Before(inv.ExpiresAt) {
		return inv, ErrInviteExpired
	}
	return inv, nil
}

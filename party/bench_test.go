package party

import (
	"testing"
	"time"
)

// BenchmarkVerifyInvite is the cost of checking one invite token.
func BenchmarkVerifyInvite(b *testing.B) {
	key := []byte("bench-key")
	now := time.Now()
	tok, err := SignInvite(key, Invite{PartyID: 1, Role: RoleListener, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := VerifyInvite(key, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMintToken is the cost of signing one LiveKit access token.
func BenchmarkMintToken(b *testing.B) {
	c := LiveKitConfig{URL: "ws://127.0.0.1:7880", APIKey: "devkey", APISecret: "secret"}
	p := Party{ID: 1, Room: "party-bench"}
	for b.Loop() {
		if _, err := MintToken(c, p, 42, "", "Bench", RoleListener); err != nil {
			b.Fatal(err)
		}
	}
}

package voice

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

func TestClassifyClose(t *testing.T) {
	for _, tc := range []struct {
		code int
		want closeAction
	}{
		{CloseVoiceServerCrashed, actionResume},
		{-1, actionResume},   // no close frame: network error
		{1006, actionResume}, // abnormal closure
		{1001, actionResume},
		{CloseSessionNoLongerValid, actionIdentify},
		{CloseSessionTimeout, actionIdentify},
		{CloseDisconnected, actionStop},
		{CloseE2EERequired, actionStop},
		{4004, actionStop},
		{CloseUnknownEncryption, actionStop},
		{4021, actionStop},
		{4022, actionStop},
	} {
		if got := classifyClose(tc.code); got != tc.want {
			t.Errorf("classifyClose(%d) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestChooseMode(t *testing.T) {
	pref := []string{ModeAES256GCM, ModeXChaCha20Poly1305}
	for _, tc := range []struct {
		name    string
		offered []string
		want    string
	}{
		{"prefers AES-GCM", []string{ModeXChaCha20Poly1305, ModeAES256GCM}, ModeAES256GCM},
		{"falls back to XChaCha", []string{"xsalsa20_poly1305_lite_rtpsize", ModeXChaCha20Poly1305}, ModeXChaCha20Poly1305},
		{"none", []string{"xsalsa20_poly1305"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chooseMode(pref, tc.offered)
			if got != tc.want || (err == nil) != (tc.want != "") {
				t.Errorf("chooseMode = %q, %v", got, err)
			}
		})
	}
}

// TestSealLayout checks the packet layout of "Transport Encryption Modes"
// against an independent decryption: header | ciphertext+tag | BE counter,
// nonce = counter then zeros, the header as additional data.
func TestSealLayout(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, mode := range []string{ModeAES256GCM, ModeXChaCha20Poly1305} {
		t.Run(mode, func(t *testing.T) {
			s, err := newSealer(mode, key)
			if err != nil {
				t.Fatal(err)
			}
			var aead cipher.AEAD
			if mode == ModeAES256GCM {
				b, _ := aes.NewCipher(key)
				aead, _ = cipher.NewGCM(b)
			} else {
				aead, _ = chacha20poly1305.NewX(key)
			}
			hdr := rtpHeader(nil, 7, 960, 42)
			if hdr[0] != 0x80 || hdr[1] != 0x78 || len(hdr) != 12 {
				t.Fatalf("header = % x", hdr)
			}
			for i := uint32(1); i <= 3; i++ {
				pkt := s.seal(nil, hdr, []byte{0xF8, 0xFF, 0xFE})
				if got := binary.BigEndian.Uint32(pkt[len(pkt)-4:]); got != i {
					t.Fatalf("nonce counter = %d, want %d", got, i)
				}
				nonce := make([]byte, aead.NonceSize())
				copy(nonce, pkt[len(pkt)-4:])
				plain, err := aead.Open(nil, nonce, pkt[12:len(pkt)-4], pkt[:12])
				if err != nil || !bytes.Equal(plain, []byte{0xF8, 0xFF, 0xFE}) {
					t.Fatalf("open = % x, %v", plain, err)
				}
			}
		})
	}
	if _, err := newSealer("xsalsa20_poly1305", key); err == nil {
		t.Error("retired mode accepted")
	}
	if _, err := newSealer(ModeAES256GCM, key[:16]); err == nil {
		t.Error("short key accepted")
	}
}

func TestParseIPDiscovery(t *testing.T) {
	resp := make([]byte, 74)
	binary.BigEndian.PutUint16(resp, 2)
	binary.BigEndian.PutUint16(resp[2:], 70)
	copy(resp[8:], "203.0.113.9")
	binary.BigEndian.PutUint16(resp[72:], 50004)
	ip, port, err := parseIPDiscovery(resp)
	if err != nil || ip != "203.0.113.9" || port != 50004 {
		t.Fatalf("parse = %q %d %v", ip, port, err)
	}
	for name, b := range map[string][]byte{"short": resp[:40], "request type": append([]byte{0, 1}, resp[2:]...), "empty address": make([]byte, 74)} {
		if name == "empty address" {
			binary.BigEndian.PutUint16(b, 2)
		}
		if _, _, err := parseIPDiscovery(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseIPDiscovery(f *testing.F) {
	f.Add(make([]byte, 74))
	f.Add([]byte{0, 2, 0, 70})
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, port, err := parseIPDiscovery(b)
		if err == nil && (ip == "" || port < 0 || port > 65535) {
			t.Fatalf("accepted %q %d", ip, port)
		}
	})
}

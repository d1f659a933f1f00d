package cdnwire

import "testing"

// TestProofBindsEveryField: the proof changes with the key and with each
// registered field, so none can be swapped in flight.
func TestProofBindsEveryField(t *testing.T) {
	psk := []byte("a pre-shared key of 32 bytes ...")
	base := Proof(psk, "n", "edge", ModeShared, "", "http://edge:8081")
	if base != Proof(psk, "n", "edge", ModeShared, "", "http://edge:8081") {
		t.Fatal("proof is not deterministic")
	}
	for name, p := range map[string]string{
		"key":   Proof([]byte("another key"), "n", "edge", ModeShared, "", "http://edge:8081"),
		"nonce": Proof(psk, "m", "edge", ModeShared, "", "http://edge:8081"),
		"name":  Proof(psk, "n", "edge2", ModeShared, "", "http://edge:8081"),
		"mode":  Proof(psk, "n", "edge", ModeLocal, "", "http://edge:8081"),
		"owner": Proof(psk, "n", "edge", ModeShared, "ann", "http://edge:8081"),
		"url":   Proof(psk, "n", "edge", ModeShared, "", "http://evil:8081"),
		"split": Proof(psk, "n", "edg", ModeShared, "e", "http://edge:8081"),
	} {
		if p == base {
			t.Errorf("changing the %s leaves the proof the same", name)
		}
	}
}

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

func TestSegmentNumber(t *testing.T) {
	for _, tc := range []struct {
		key, dir string
		n        int
		ok       bool
	}{
		{"/api/hls/1/v/720p/s/12.m4s", "/api/hls/1/v/720p/s/", 12, true},
		{"/api/hls/1/v/720p/s/init.mp4", "", 0, false},
		{"/api/hls/1/v/720p/s/012.m4s", "", 0, false}, // not canonical
		{"/api/hls/1/v/720p/s/-1.m4s", "", 0, false},
		{"/api/downloads/files/3.mp4", "", 0, false},
	} {
		dir, n, ok := SegmentNumber(tc.key)
		if dir != tc.dir || n != tc.n || ok != tc.ok {
			t.Errorf("SegmentNumber(%q) = %q, %d, %v; want %q, %d, %v", tc.key, dir, n, ok, tc.dir, tc.n, tc.ok)
		}
	}
}

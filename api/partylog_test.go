package api

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
)

// TestPartyLogHidesWorkerDetailsFromListeners: when the media worker is
// down, the party log tells hosts the technical details (the worker's
// address and error) beside the headline, while listeners see only the
// headline: the worker's internal address is not theirs to know.
func TestPartyLogHidesWorkerDetailsFromListeners(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, item := w.addItem("Night Train")
	host, _ := w.user("hana", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": item}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]any{"role": "listener", "expiresInSeconds": 3600}, &inv)
	guest := w.browser()
	guest.must(200, "POST", "/api/join", map[string]string{"token": inv.Token, "displayName": "Gus"}, nil)

	w.worker.Kill()
	if r := host.do("POST", base+"/control", map[string]any{"action": "play"}); r.status < 400 {
		t.Fatalf("play with the worker down = %d %s, want an error", r.status, r.body)
	}
	hostLog := host.must(200, "GET", base+"/log", nil, nil).body
	if !bytes.Contains(hostLog, []byte(`"worker.error"`)) || !bytes.Contains(hostLog, []byte(`"detail"`)) {
		t.Fatalf("the host's party log has no worker.error with details:\n%s", hostLog)
	}
	guestLog := guest.must(200, "GET", base+"/log", nil, nil).body
	if !bytes.Contains(guestLog, []byte(`"worker.error"`)) {
		t.Fatalf("the listener's party log lacks the worker.error headline:\n%s", guestLog)
	}
	if bytes.Contains(guestLog, []byte(`"detail"`)) || bytes.Contains(guestLog, []byte(w.worker.Addr())) {
		t.Fatalf("the listener's party log shows the worker's details:\n%s", guestLog)
	}
}

package api

import (
	"fmt"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

// TestEndToEndTwoTabsOfOneUser: a user's two tabs are two participants of
// the same user in the real SFU; neither knocks the other out, and a host
// hand-off reaches both.
func TestEndToEndTwoTabsOfOneUser(t *testing.T) {
	st := newStack(t, 5*time.Second)
	w := st.w
	host, _ := w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": st.item}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]string{"role": "cohost"}, &inv)
	co := w.browser()
	var first RoomAccess
	co.must(200, "POST", "/api/join", map[string]string{"token": inv.Token, "displayName": "Co"}, &first)
	var second RoomAccess
	co.must(200, "POST", base+"/token", map[string]string{"tab": "tab-2"}, &second)
	if r := co.do("POST", base+"/token", map[string]string{"tab": "no spaces"}); r.status != 400 {
		t.Fatalf("a malformed tab: %d %s, want 400", r.status, r.body)
	}
	u1, ok1 := party.UserOfIdentity(first.Identity)
	u2, ok2 := party.UserOfIdentity(second.Identity)
	if !ok1 || !ok2 || u1 != u2 || first.Identity == second.Identity || second.Identity != party.TabIdentity(u1, "tab-2") {
		t.Fatalf("identities %q and %q: want two participants of one user", first.Identity, second.Identity)
	}
	tabs := []*listener{st.listen(first), st.listen(second)}
	time.Sleep(time.Second) // a duplicate identity would be closed at the second join
	for i, l := range tabs {
		if s := l.room.ConnectionState(); s != lksdk.ConnectionStateConnected {
			t.Fatalf("tab %d: connection %s after the other tab joined", i+1, s)
		}
	}
	host.must(200, "POST", base+"/host", map[string]string{"identity": second.Identity}, nil)
	for i, l := range tabs {
		eventually(t, fmt.Sprintf("tab %d to see its new role", i+1), func() bool {
			return l.room.LocalParticipant.Attributes()["marquee.role"] == string(party.RoleHost)
		})
	}
}

package api

import (
	"context"
	"strconv"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

type fakeHLS struct{}

func (fakeHLS) MasterURL(id int64) string {
	return "/api/hls/" + strconv.FormatInt(id, 10) + "/master.m3u8?sig=x"
}

// TestHLSURLAccess: the signed playlist URL goes to viewers allowed the
// item, and to a party guest only for the item their party plays now.
func TestHLSURLAccess(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.srv.p.HLS = fakeHLS{}
	_, item := w.addItem("Film")
	_, other := w.addItem("Other")
	admin, _ := w.user("root", auth.RoleAdmin)
	var out struct{ URL string }
	admin.must(200, "GET", "/api/items/"+strconv.FormatInt(item, 10)+"/hls", nil, &out)
	if out.URL != (fakeHLS{}).MasterURL(item) {
		t.Fatalf("url = %q", out.URL)
	}
	host, _ := w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": item}, &pv)
	guest, gu := w.user("guest", auth.RoleGuest)
	if _, err := w.parties.Join(context.Background(), pv.ID, gu.ID, party.RoleListener); err != nil {
		t.Fatal(err)
	}
	outsider, _ := w.user("outsider", auth.RoleGuest)
	path := "/api/items/" + strconv.FormatInt(item, 10) + "/hls"
	guest.must(404, "GET", path, nil, nil) // queued, not playing yet
	if _, err := w.parties.Play(context.Background(), pv.ID, party.PlayOptions{}); err != nil {
		t.Fatal(err)
	}
	guest.must(200, "GET", path, nil, &out)
	outsider.must(404, "GET", path, nil, nil)
	guest.must(404, "GET", "/api/items/"+strconv.FormatInt(other, 10)+"/hls", nil, nil)
	w.browser().must(401, "GET", path, nil, nil)
}

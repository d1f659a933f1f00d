package api

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
)

// TestPartySchedule sets a party's start on creation, shows it in the
// party view and the invite preview, refuses bad times with a clear error
// and a co-host's change, and clears it with null.
func TestPartySchedule(t *testing.T) {
	w := newWorld(t, worldOpts{})
	host, _ := w.user("host", auth.RoleMember)
	start := time.Now().Add(2 * time.Hour).UnixMilli()

	host.must(400, "POST", "/api/parties", map[string]any{"title": "Late", "startsAtMs": time.Now().Add(-time.Hour).UnixMilli()}, nil)
	if r := host.do("POST", "/api/parties", map[string]any{"title": "Far", "startsAtMs": time.Now().Add(31 * 24 * time.Hour).UnixMilli()}); r.status != 400 || r.code() != "invalid" {
		t.Fatalf("start in 31 days = %d %s, want 400 invalid", r.status, r.body)
	}
	host.must(400, "POST", "/api/parties", map[string]any{"title": "Bad", "startsAtMs": "tomorrow"}, nil)
	var ps struct {
		Parties []partyView `json:"parties"`
	}
	host.must(200, "GET", "/api/parties", nil, &ps)
	if len(ps.Parties) != 0 {
		t.Fatalf("a refused schedule left %d parties behind", len(ps.Parties))
	}

	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"title": "Premiere", "startsAtMs": start}, &pv)
	if pv.StartsAtMs == nil || *pv.StartsAtMs != start {
		t.Fatalf("created party startsAtMs = %v, want %d", pv.StartsAtMs, start)
	}
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]any{"role": "cohost"}, &inv)
	var info InviteInfo
	w.browser().must(200, "GET", "/api/invites/"+inv.Token, nil, &info)
	if info.StartsAtMs == nil || *info.StartsAtMs != start {
		t.Fatalf("invite preview startsAtMs = %v, want %d", info.StartsAtMs, start)
	}

	cohost := w.browser()
	cohost.must(200, "POST", "/api/join", map[string]string{"token": inv.Token, "displayName": "co"}, nil)
	cohost.must(403, "PATCH", base, map[string]any{"startsAtMs": nil}, nil)
	cohost.must(200, "PATCH", base, map[string]any{"title": "Renamed"}, nil) // other edits stay open to co-hosts

	later := start + 3600_000
	host.must(200, "PATCH", base, map[string]any{"startsAtMs": later}, &pv)
	if pv.StartsAtMs == nil || *pv.StartsAtMs != later || pv.Title != "Renamed" {
		t.Fatalf("after PATCH: startsAtMs %v title %q", pv.StartsAtMs, pv.Title)
	}
	host.must(200, "PATCH", base, map[string]any{"title": "Premiere"}, &pv)
	if pv.StartsAtMs == nil {
		t.Fatal("a PATCH without startsAtMs cleared the schedule")
	}
	host.must(200, "PATCH", base, map[string]any{"startsAtMs": nil}, &pv)
	if pv.StartsAtMs != nil {
		t.Fatalf("startsAtMs null left %d", *pv.StartsAtMs)
	}
	host.must(200, "GET", base, nil, &pv)
	if pv.StartsAtMs != nil {
		t.Fatal("clear did not persist")
	}
}

// notes records what the API tells the Prefetcher.
type notes struct {
	mu  sync.Mutex
	got []string
}

func (n *notes) Observe(user, item int64, pos, dur float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, fmt.Sprintf("%d %d %.0f/%.0f", user, item, pos, dur))
}

// TestPrefetcherHooks: a playlist request and a progress save reach the
// Prefetcher (CDN predictive prefetch); refused requests do not.
func TestPrefetcherHooks(t *testing.T) {
	w := newWorld(t, worldOpts{})
	n := &notes{}
	w.srv.p.HLS, w.srv.p.Prefetcher = fakeHLS{}, n
	_, item := w.addItem("Episode 1")
	mia, u := w.user("mia", auth.RoleAdmin)
	id := strconv.FormatInt(item, 10)
	mia.must(200, "GET", "/api/items/"+id+"/hls", nil, nil)
	mia.must(200, "PUT", progressPath(item), map[string]any{"positionMs": 480000, "durationMs": 600000}, nil)
	mia.must(400, "PUT", progressPath(item), map[string]any{"positionMs": -1, "durationMs": 600000}, nil)
	want := fmt.Sprint([]string{fmt.Sprintf("%d %d 0/0", u.ID, item), fmt.Sprintf("%d %d 480000/600000", u.ID, item)})
	if got := fmt.Sprint(n.got); got != want {
		t.Fatalf("prefetcher heard %s, want %s", got, want)
	}
}

package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lkauth "github.com/livekit/protocol/auth"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

func TestOpenAPICoversRoutes(t *testing.T) {
	w := newWorld(t, worldOpts{nodePSK: testNodePSK})
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	r := w.browser().must(200, "GET", "/api/openapi.json", nil, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi = %q, content type %q", doc.OpenAPI, r.header.Get("Content-Type"))
	}
	names := map[Access]string{Public: "public", Worker: "worker", User: "user", Member: "member", Admin: "admin",
		PartyView: "view", PartyControl: "control", PartyHost: "host", Origin: "origin", CDNNode: "node"}
	registered := map[string]bool{}
	for _, rt := range w.srv.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Pattern
		registered[key] = true
		raw, ok := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("route %s is not in openapi.json", key)
			continue
		}
		var op struct {
			Access string `json:"x-marquee-access"`
		}
		_ = json.Unmarshal(raw, &op)
		if op.Access != names[rt.Access] {
			t.Errorf("route %s: document says access %q, code says %q", key, op.Access, names[rt.Access])
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !registered[m+" "+path] {
				t.Errorf("openapi.json documents %s %s, which is not registered", m, path)
			}
		}
	}
}

func TestSignInLinkAccountsAndTokens(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	admin, secret, created, err := w.auth.Bootstrap(ctx, time.Hour)
	if err != nil || !created {
		t.Fatal(err)
	}
	b := w.browser()
	page := b.must(200, "GET", "/login/"+secret, nil, nil)
	if !strings.Contains(string(page.body), "/api/auth/link") {
		t.Fatal("login page does not post the link")
	}
	b.must(401, "GET", "/api/me", nil, nil)
	r := b.must(200, "POST", "/api/auth/link", map[string]string{"token": secret}, nil)
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{SessionCookie + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	var me auth.User
	b.must(200, "GET", "/api/me", nil, &me)
	if me.ID != admin.ID || me.Role != auth.RoleAdmin {
		t.Fatalf("me = %+v", me)
	}
	if r := w.browser().do("POST", "/api/auth/link", map[string]string{"token": secret}); r.status != 401 || r.code() != "link_used" {
		t.Fatalf("second use of the link = %d %s", r.status, r.body)
	}

	// A second account on the same browser, then the switcher.
	var member auth.User
	b.must(201, "POST", "/api/users", map[string]string{"username": "mia", "password": testPassword}, &member)
	if r := b.do("POST", "/api/auth/login", map[string]string{"username": "mia", "password": "wrong-password"}); r.status != 401 || r.code() != "invalid_credentials" {
		t.Fatalf("wrong password = %d %s", r.status, r.body)
	}
	b.must(200, "POST", "/api/auth/login", map[string]string{"username": "mia", "password": testPassword}, nil)
	var accts struct{ Accounts []account }
	b.must(200, "GET", "/api/auth/accounts", nil, &accts)
	if len(accts.Accounts) != 2 || !accts.Accounts[1].Active || accts.Accounts[1].ID != member.ID {
		t.Fatalf("accounts = %+v", accts.Accounts)
	}
	b.must(200, "GET", "/api/me", nil, &me)
	if me.ID != member.ID {
		t.Fatalf("active after second login = %d", me.ID)
	}
	b.must(403, "GET", "/api/users", nil, nil)
	b.must(200, "POST", "/api/auth/switch", map[string]int64{"userId": admin.ID}, nil)
	b.must(200, "GET", "/api/users", nil, nil)
	b.must(404, "POST", "/api/auth/switch", map[string]int64{"userId": 9999}, nil)
	b.must(204, "POST", "/api/auth/logout", nil, nil)
	b.must(200, "GET", "/api/me", nil, &me)
	if me.ID != member.ID {
		t.Fatalf("after logging the admin out, active = %d, want the member", me.ID)
	}

	// Cookie-authenticated writes from another site are refused.
	req, _ := http.NewRequest("POST", w.http.URL+"/api/parties", strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Content-Type", "application/json")
	res, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("cross-origin write = %d", res.StatusCode)
	}
	// Behind a reverse proxy the Origin is the public URL's host.
	req, _ = http.NewRequest("POST", w.http.URL+"/api/parties", strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Origin", "http://marquee.test")
	req.Header.Set("Content-Type", "application/json")
	if res, err = b.hc.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("write from the public origin = %d", res.StatusCode)
	}

	// API tokens for bots.
	var tok struct {
		Token  auth.Token
		Secret string
	}
	b.must(201, "POST", "/api/me/tokens", map[string]any{"name": "discord-bot"}, &tok)
	bot := w.bot(tok.Secret)
	bot.must(200, "GET", "/api/me", nil, &me)
	if me.ID != member.ID {
		t.Fatalf("bot is %d", me.ID)
	}
	bot.must(201, "POST", "/api/parties", map[string]string{"title": "bot party"}, nil)
	b.must(204, "DELETE", fmt.Sprintf("/api/me/tokens/%d", tok.Token.ID), nil, nil)
	bot.must(401, "GET", "/api/me", nil, nil)
	w.bot("mqt_forged").must(401, "GET", "/api/me", nil, nil)
}

// grantsOf verifies a LiveKit token with the dev secret and returns its claims.
func grantsOf(t *testing.T, tok string) *lkauth.ClaimGrants {
	t.Helper()
	v, err := lkauth.ParseAPIToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if v.APIKey() != "devkey" {
		t.Fatalf("api key %q", v.APIKey())
	}
	g, err := v.Verify("secret")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func checkGrants(t *testing.T, ra RoomAccess, role party.Role) {
	t.Helper()
	g := grantsOf(t, ra.Token)
	v := g.Video
	if v == nil || !v.RoomJoin || v.Room != ra.Room || !v.GetCanSubscribe() || v.GetCanPublish() || !v.GetCanPublishData() ||
		v.RoomAdmin || v.RoomCreate || v.RoomList || v.RoomRecord || v.Hidden || v.GetCanUpdateOwnMetadata() {
		t.Fatalf("%s grants = %+v", role, v)
	}
	if g.Identity != ra.Identity || g.Attributes["marquee.role"] != string(role) {
		t.Fatalf("%s identity %q attributes %v", role, g.Identity, g.Attributes)
	}
}

// sseReader reads a party's event stream in the background.
type sseReader struct {
	events chan party.PartyEvent
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *client) stream(path string) *sseReader {
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.w.http.URL+path, nil)
	res, err := c.hc.Do(req)
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		c.w.t.Fatalf("stream %s: %v %v", path, err, res)
	}
	s := &sseReader{events: make(chan party.PartyEvent, 256), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev party.PartyEvent
				if json.Unmarshal([]byte(data), &ev) == nil {
					select {
					case s.events <- ev:
					default:
					}
				}
			}
		}
	}()
	c.w.t.Cleanup(s.close)
	return s
}

func (s *sseReader) close() { s.cancel(); <-s.done }

func (s *sseReader) waitFor(t *testing.T, typ string) party.PartyEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev.Type == typ {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event", typ)
		}
	}
}

func TestPartyInvitesControlAndEvents(t *testing.T) {
	w := newWorld(t, worldOpts{heartbeat: 50 * time.Millisecond})
	_, item1 := w.addItem("Alpha")
	_, item2 := w.addItem("Beta")
	host, hostUser := w.user("hana", auth.RoleMember)

	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": item1}, &pv)
	if pv.Title != "Alpha" || len(pv.Queue) != 1 || pv.Role != party.RoleHost || pv.Status != party.StatusQueued {
		t.Fatalf("new party = %+v", pv)
	}
	id := pv.ID
	base := fmt.Sprintf("/api/parties/%d", id)
	host.must(201, "POST", base+"/queue", map[string]any{"itemId": item2}, nil)
	host.must(404, "POST", base+"/queue", map[string]any{"itemId": 424242}, nil)
	events := host.stream(base + "/events?after=0")
	events.waitFor(t, "queue.added")

	var li, ci Invite
	host.must(201, "POST", base+"/invites", map[string]any{"role": "listener", "expiresIn": "2h"}, &li)
	host.must(201, "POST", base+"/invites", map[string]any{"role": "cohost", "expiresIn": 600}, &ci)
	if !strings.HasPrefix(li.URL, "http://marquee.test/join/") || li.Role != party.RoleListener {
		t.Fatalf("invite = %+v", li)
	}

	// A guest joins by the listener link and gets exactly the listener grants.
	guest := w.browser()
	var ra RoomAccess
	guest.must(200, "POST", "/api/join", map[string]string{"token": li.Token, "displayName": "Gus"}, &ra)
	if ra.Role != party.RoleListener || ra.User == nil || ra.User.Role != auth.RoleGuest || ra.URL != "ws://127.0.0.1:7880" {
		t.Fatalf("join = %+v", ra)
	}
	checkGrants(t, ra, party.RoleListener)
	guest.must(200, "GET", base, nil, nil)
	if r := guest.do("POST", base+"/control", map[string]string{"action": "play"}); r.status != 403 {
		t.Fatalf("listener play = %d", r.status)
	}
	guest.must(403, "POST", base+"/invites", map[string]string{"role": "listener"}, nil)
	guest.must(403, "POST", "/api/parties", map[string]string{"title": "guest party"}, nil)
	guest.must(403, "GET", "/api/items", nil, nil)
	// Guests may see the posters of items queued in their party, nothing else.
	guest.must(200, "GET", fmt.Sprintf("/api/items/%d/poster", item1), nil, nil)
	_, other := w.addItem("Gamma")
	guest.must(404, "GET", fmt.Sprintf("/api/items/%d/poster", other), nil, nil)

	co := w.browser()
	co.must(200, "POST", "/api/join", map[string]string{"token": ci.Token, "displayName": "Cora"}, &ra)
	checkGrants(t, ra, party.RoleCohost)
	coID := ra.User.ID
	co.must(403, "POST", base+"/invites", map[string]string{"role": "cohost"}, nil)
	co.must(201, "POST", base+"/invites", map[string]string{"role": "listener"}, nil)
	var hostRA RoomAccess
	host.must(200, "POST", base+"/token", nil, &hostRA)
	checkGrants(t, hostRA, party.RoleHost)

	// The co-host drives playback on the (fake) ingest.
	co.must(200, "POST", base+"/control", map[string]string{"action": "play"}, &pv)
	if pv.Status != party.StatusConnecting || pv.Current == nil || pv.Current.SourceID != fmt.Sprint(item1) {
		t.Fatalf("after play = %+v", pv)
	}
	events.waitFor(t, "playback.requested")
	events.waitFor(t, "worker.started")
	ses, ok := w.worker.Session(pv.WorkerSessionID)
	if !ok || !strings.HasSuffix(ses.StreamURL, "Alpha.mkv") {
		t.Fatalf("worker session = %+v", ses)
	}
	co.must(200, "POST", base+"/control", map[string]any{"action": "seek", "positionSeconds": 30}, nil)
	co.must(400, "POST", base+"/control", map[string]any{"action": "seek"}, nil)
	co.must(400, "POST", base+"/control", map[string]any{"action": "rewind"}, nil)
	co.must(200, "POST", base+"/control", map[string]string{"action": "pause"}, &pv)
	if pv.Status != party.StatusPaused {
		t.Fatalf("after pause = %s", pv.Status)
	}
	if r := co.do("POST", base+"/control", map[string]string{"action": "pause"}); r.status != 200 {
		t.Fatalf("second pause = %d", r.status)
	}
	co.must(200, "POST", base+"/control", map[string]string{"action": "resume"}, nil)
	if r := co.do("POST", base+"/control", map[string]string{"action": "resume"}); r.status != 409 || r.code() != "bad_status" {
		t.Fatalf("resume while playing = %d %s", r.status, r.body)
	}

	// The item ends: the worker's callback (real route) advances the queue.
	w.worker.End(pv.WorkerSessionID, "")
	eventually(t, "second item", func() bool {
		s, _ := w.worker.Session(pv.WorkerSessionID)
		return strings.HasSuffix(s.StreamURL, "Beta.mkv")
	})
	var hist struct{ History []party.HistoryEntry }
	guest.must(200, "GET", "/api/me/history", nil, &hist)
	if len(hist.History) == 0 || hist.History[0].SourceID != fmt.Sprint(item1) || hist.History[0].PlayCount != 1 {
		t.Fatalf("guest history = %+v", hist.History)
	}

	// Hand the host role on; the old host becomes a co-host; the host leaves
	// and the party carries on.
	host.must(200, "POST", base+"/host", map[string]string{"identity": party.Identity(coID)}, nil)
	guest.must(403, "DELETE", base, nil, nil)
	var mem struct{ Members []party.Member }
	co.must(200, "GET", base+"/members", nil, &mem)
	if mem.Members[0].UserID != coID || mem.Members[0].Role != party.RoleHost {
		t.Fatalf("members = %+v", mem.Members)
	}
	var left struct{ NewHost *party.Member }
	co.must(200, "POST", base+"/leave", nil, &left)
	if left.NewHost == nil || left.NewHost.UserID != hostUser.ID {
		t.Fatalf("after the host left: %+v", left.NewHost)
	}
	host.must(200, "GET", base, nil, &pv)
	if pv.Status != party.StatusPlaying && pv.Status != party.StatusConnecting {
		t.Fatalf("party after host left: %s", pv.Status)
	}
	co.must(403, "GET", base, nil, nil)
	events.waitFor(t, "host.changed")

	// The worker may only call back with its secret.
	w.bot("wrong").must(401, "POST", "/internal/worker/events", map[string]string{"sessionId": "x", "type": "heartbeat"}, nil)
	w.bot(workerSecret).must(404, "POST", "/internal/worker/events", map[string]string{"sessionId": "nope", "type": "heartbeat"}, nil)
	w.bot(workerSecret).must(400, "POST", "/internal/worker/events", map[string]string{"sessionId": "nope", "type": "bogus"}, nil)

	host.must(204, "DELETE", base, nil, nil)
	guest.must(403, "GET", base, nil, nil)
	if r := w.browser().do("POST", "/api/join", map[string]string{"token": li.Token}); r.status != 410 || r.code() != "party_gone" {
		t.Fatalf("join a deleted party = %d %s", r.status, r.body)
	}
}

func TestInviteErrors(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	// Atomic: background goroutines (the downloads pruner) read the clock too.
	var at atomic.Int64
	at.Store(now.UnixNano())
	clock := func() time.Time { return time.Unix(0, at.Load()) }
	w := newWorld(t, worldOpts{now: clock})
	host, _ := w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]string{"title": "Invites"}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	var inv Invite
	host.must(201, "POST", base+"/invites", map[string]any{"role": "listener", "expiresInSeconds": 3600}, &inv)
	otherKey, _ := party.SignInvite([]byte("not-the-key"), party.Invite{PartyID: pv.ID, Role: party.RoleCohost, ExpiresAt: now.Add(time.Hour)})
	payload, mac, _ := strings.Cut(inv.Token, ".")
	cohostPayload, _, _ := strings.Cut(otherKey, ".")

	tests := []struct {
		name, token, code string
		later             time.Duration
	}{
		{"expired", inv.Token, "invite_expired", 2 * time.Hour},
		{"signed with another key", otherKey, "invite_invalid", 0},
		{"role upgraded", cohostPayload + "." + mac, "invite_invalid", 0},
		{"no signature", payload, "invite_invalid", 0},
		{"garbage", "../../etc/passwd", "invite_invalid", 0},
		{"empty", "", "invite_invalid", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at.Store(now.Add(tt.later).UnixNano())
			r := w.browser().do("POST", "/api/join", map[string]string{"token": tt.token, "displayName": "x"})
			if r.status != 401 || r.code() != tt.code {
				t.Fatalf("join = %d %s, want 401 %s", r.status, r.body, tt.code)
			}
			var e Error
			r.json(t, &e)
			if e.Message == "" {
				t.Fatal("error without a message")
			}
		})
	}
	at.Store(now.UnixNano())
	host.must(400, "POST", base+"/invites", map[string]string{"role": "host"}, nil)
	host.must(400, "POST", base+"/invites", map[string]any{"role": "listener", "expiresIn": "30d"}, nil)
	host.must(400, "POST", base+"/invites", map[string]any{"role": "listener", "expiresIn": 1}, nil)
	// The genuine token still works before expiry.
	w.browser().must(200, "POST", "/api/join", map[string]string{"token": inv.Token, "displayName": "ok"}, nil)
	// Revoking voids the links minted so far, not later ones.
	host.must(204, "DELETE", base+"/invites", nil, nil)
	if r := w.browser().do("POST", "/api/join", map[string]string{"token": inv.Token}); r.status != 401 || r.code() != "invite_revoked" {
		t.Fatalf("revoked invite = %d %s", r.status, r.body)
	}
	var fresh Invite
	host.must(201, "POST", base+"/invites", map[string]string{"role": "listener"}, &fresh)
	w.browser().must(200, "POST", "/api/join", map[string]string{"token": fresh.Token}, nil)
}

func TestLoginThrottle(t *testing.T) {
	// The clock is read by the party service's watchdog goroutine too.
	var mu sync.Mutex
	now := time.Unix(1_900_000_000, 0)
	w := newWorld(t, worldOpts{now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	w.user("vic", auth.RoleMember)
	b := w.browser()
	for i := range LoginFailures {
		if r := b.do("POST", "/api/auth/login", map[string]string{"username": "vic", "password": "wrong-guess"}); r.status != 401 {
			t.Fatalf("attempt %d = %d", i, r.status)
		}
	}
	// Even the right password is refused while throttled.
	if r := b.do("POST", "/api/auth/login", map[string]string{"username": "VIC", "password": testPassword}); r.status != 429 || r.code() != "too_many_attempts" {
		t.Fatalf("throttled login = %d %s", r.status, r.body)
	}
	mu.Lock()
	now = now.Add(LoginWindow + time.Second)
	mu.Unlock()
	b.must(200, "POST", "/api/auth/login", map[string]string{"username": "vic", "password": testPassword}, nil)
}

func TestEventStreamResumesFromLastEventID(t *testing.T) {
	w := newWorld(t, worldOpts{})
	host, _ := w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]string{"title": "SSE"}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	host.must(200, "PATCH", base, map[string]string{"title": "SSE 2"}, nil)
	host.must(200, "PATCH", base, map[string]string{"title": "SSE 3"}, nil)
	var log struct{ Events []party.PartyEvent }
	host.must(200, "GET", base+"/log", nil, &log)
	if len(log.Events) != 3 || log.Events[0].Type != "party.created" {
		t.Fatalf("log = %+v", log.Events)
	}
	// As EventSource does on reconnect: Last-Event-ID replays what followed.
	req, _ := http.NewRequest("GET", w.http.URL+base+"/events", nil)
	req.Header.Set("Last-Event-ID", fmt.Sprint(log.Events[0].ID))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := host.hc.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	var ids []string
	for sc.Scan() && len(ids) < 2 {
		if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
			ids = append(ids, id)
		}
	}
	if want := []string{fmt.Sprint(log.Events[1].ID), fmt.Sprint(log.Events[2].ID)}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("replayed ids %v, want %v", ids, want)
	}
	host.must(400, "GET", base+"/events?after=-3", nil, nil)
}

func TestGuestJoinsThrottledPerAddress(t *testing.T) {
	w := newWorld(t, worldOpts{})
	host, _ := w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]string{"title": "Busy"}, &pv)
	var inv Invite
	host.must(201, "POST", fmt.Sprintf("/api/parties/%d/invites", pv.ID), map[string]string{"role": "listener"}, &inv)
	for range JoinsPerWindow {
		w.browser().must(200, "POST", "/api/join", map[string]string{"token": inv.Token}, nil)
	}
	if r := w.browser().do("POST", "/api/join", map[string]string{"token": inv.Token}); r.status != 429 || r.code() != "too_many_joins" {
		t.Fatalf("join %d = %d %s", JoinsPerWindow+1, r.status, r.body)
	}
	// A signed-in account joining as itself is not a new guest.
	host.must(200, "POST", "/api/join", map[string]string{"token": inv.Token}, nil)
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
)

// authzRoles are the kinds of caller the authorization table covers.
var authzRoles = []string{"anonymous", "worker", "guest-outsider", "listener", "cohost", "host", "member-outsider", "admin"}

// allowed is the authorization table: which roles pass each access level.
var allowed = map[Access][]string{
	Public:       authzRoles,
	Worker:       {"worker"},
	User:         {"guest-outsider", "listener", "cohost", "host", "member-outsider", "admin"},
	Member:       {"host", "member-outsider", "admin"},
	Admin:        {"admin"},
	PartyView:    {"listener", "cohost", "host", "admin"},
	PartyControl: {"cohost", "host", "admin"},
	PartyHost:    {"host", "admin"},
	Origin:       {"guest-outsider", "listener", "cohost", "host", "member-outsider", "admin"},
	CDNNode:      nil, // a node's credential, which no user or worker has: 401
}

// TestAuthorizationTable calls every registered route as every kind of
// caller. Refused callers get 401 (no credentials) or 403; allowed ones get
// past authorization (any other status: requests carry a malformed body or
// unknown ids, so allowed writes fail validation instead of changing state).
func TestAuthorizationTable(t *testing.T) {
	for _, role := range authzRoles {
		t.Run(role, func(t *testing.T) {
			w := newWorld(t, worldOpts{})
			_, item := w.addItem("Authz")
			host, hostUser := w.user("host", auth.RoleMember)
			var pv partyView
			host.must(201, "POST", "/api/parties", map[string]any{"itemId": item}, &pv)
			ctx := context.Background()
			join := func(name string, r party.Role) *client {
				c, u := w.user(name, auth.RoleGuest)
				if _, err := w.parties.Join(ctx, pv.ID, u.ID, r); err != nil {
					t.Fatal(err)
				}
				return c
			}
			callers := map[string]*client{
				"anonymous":       w.browser(),
				"worker":          w.bot(workerSecret),
				"listener":        join("lis", party.RoleListener),
				"cohost":          join("coh", party.RoleCohost),
				"host":            host,
				"member-outsider": func() *client { c, _ := w.user("out", auth.RoleMember); return c }(),
				"guest-outsider":  func() *client { c, _ := w.user("gout", auth.RoleGuest); return c }(),
				"admin":           func() *client { c, _ := w.user("root", auth.RoleAdmin); return c }(),
			}
			_ = hostUser
			c := callers[role]
			routes := w.srv.Routes()
			// State-changing routes without a body run last.
			last := map[string]int{"POST /api/parties/{id}/leave": 1, "DELETE /api/parties/{id}": 2}
			sort.SliceStable(routes, func(i, j int) bool {
				return last[routes[i].Method+" "+routes[i].Pattern] < last[routes[j].Method+" "+routes[j].Pattern]
			})
			for _, rt := range routes {
				tok := validInvite(t, w, pv.ID) // so the public invite routes answer on their merits
				path := strings.NewReplacer("{id}", fmt.Sprint(pv.ID), "{entryId}", "999999", "{userId}", "999999",
					"{tokenId}", "999999", "{jobId}", "999999", "{libraryId}", "999999", "{itemId}", fmt.Sprint(item), "{token}", tok, "{version}", "v1").Replace(rt.Pattern)
				status := c.probe(rt.Method, path)
				ok := false
				for _, r := range allowed[rt.Access] {
					ok = ok || r == role
				}
				name := rt.Method + " " + rt.Pattern
				switch {
				case ok && (status == 401 || status == 403):
					t.Errorf("%s as %s: refused with %d, want allowed", name, role, status)
				case !ok && (role == "anonymous" || role == "worker" || rt.Access == Worker || rt.Access == CDNNode) && status != 401:
					t.Errorf("%s as %s: %d, want 401", name, role, status)
				case !ok && role != "anonymous" && role != "worker" && rt.Access != Worker && rt.Access != CDNNode && status != 403:
					t.Errorf("%s as %s: %d, want 403", name, role, status)
				}
			}
		})
	}
}

// probe sends a request with a malformed JSON body (for methods that take
// one) and returns the status once the headers arrive.
func (c *client) probe(method, path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var body *strings.Reader
	if method == "POST" || method == "PUT" || method == "PATCH" {
		body = strings.NewReader("{")
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequestWithContext(ctx, method, c.w.http.URL+path, body)
	req.Header.Set("Content-Type", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.w.t.Fatalf("%s %s: %v", method, path, err)
	}
	res.Body.Close() // also ends event streams
	return res.StatusCode
}

// TestNoPathTraversal tries ../ and encoded variants on every route that
// serves files or takes a token in its path: nothing outside what the id
// names is ever served.
func TestNoPathTraversal(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, item := w.addItem("Safe")
	secret := filepath.Join(w.dataDir, "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	admin, _ := w.user("root", auth.RoleAdmin)
	admin.must(200, "GET", fmt.Sprintf("/api/items/%d/poster", item), nil, nil)
	rel, _ := filepath.Rel("/", secret)
	attacks := []string{
		"/api/items/../../../../" + rel + "/poster",
		"/api/items/..%2f..%2f..%2f..%2f" + strings.ReplaceAll(rel, "/", "%2f") + "/poster",
		"/api/items/%2e%2e%2f%2e%2e%2fsecret.txt/poster",
		"/api/items/..%252f..%252fsecret.txt/poster",
		"/api/items/" + fmt.Sprint(item) + "%2f..%2f..%2fsecret.txt/poster",
		"/api/items/" + fmt.Sprint(item) + "/poster/../../secret.txt",
		"/api/items/" + fmt.Sprint(item) + "/..%2f..%2fsecret.txt",
		"/api/items/-1/poster",
		"/api/items/1e3/poster",
		"/api/items/%00/poster",
		"/api/items/..%5c..%5csecret.txt/poster",
		"/login/..%2f..%2f" + strings.ReplaceAll(rel, "/", "%2f"),
		"/api/libraries/..%2f/scan",
		"/api/parties/..%2f..%2f/events",
		"/api/downloads/files/..%2f..%2f..%2f" + strings.ReplaceAll(rel, "/", "%2f"),
		"/api/downloads/files/d/j/1/v/../../../../../secret.txt",
		"/api/downloads/files/d/j/1/v/..%2f..%2fsecret.txt?exp=9999999999&sig=x",
		"/api/downloads/jobs/..%2f..%2fsecret.txt",
		"/api/downloads/jobs/x/items/..%2f1/retry",
		"/api/downloads/devices/..%2f..%2f/checkin",
		"/api/admin/users/..%2f1/download-rules",
	}
	for _, a := range attacks {
		t.Run(a, func(t *testing.T) {
			req, _ := http.NewRequest("GET", w.http.URL+a, nil)
			req.URL.RawPath = "" // send the path exactly as written
			req.URL.Opaque = a
			res, err := admin.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1<<16)
			n, _ := res.Body.Read(buf)
			res.Body.Close()
			if strings.Contains(string(buf[:n]), "TOP-SECRET") {
				t.Fatalf("%s served the secret file", a)
			}
			if res.StatusCode == 200 && !strings.HasPrefix(a, "/login/") {
				t.Fatalf("%s = 200 %q", a, buf[:n])
			}
		})
	}
	// Library paths from clients must stay inside the configured roots.
	for _, p := range []string{"/etc", filepath.Join(w.dataDir, "..", ".."), w.dataDir + "/../x"} {
		r := admin.do("POST", "/api/libraries", map[string]string{"name": "x", "path": p, "kind": "movies"})
		if r.status != 400 || r.code() != "outside_roots" {
			t.Fatalf("library at %s = %d %s", p, r.status, r.body)
		}
	}
}

// validInvite mints a listener invite to partyID at its current epoch
// (earlier routes of the table may have revoked older ones).
func validInvite(t *testing.T, w *world, partyID int64) string {
	t.Helper()
	p, err := w.parties.Get(context.Background(), partyID)
	if err != nil {
		return "x" // the party was deleted: any token will do
	}
	tok, err := party.SignInvite(inviteKey, party.Invite{PartyID: partyID, Role: party.RoleListener,
		ExpiresAt: time.Now().Add(time.Hour), Epoch: p.InviteEpoch})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/cdn/cdnctl"
	"github.com/marquee-party/marquee/internal/cdnwire"
)

// fakeCDNHeartbeats accepts the credential "node-cred" (node n1) and
// echoes what it received in a task id.
type fakeCDNHeartbeats struct{}

func (fakeCDNHeartbeats) Authenticate(_ context.Context, cred string) (string, error) {
	if cred != "node-cred" {
		return "", fmt.Errorf("%w (test)", cdnctl.ErrNodeRefused)
	}
	return "n1", nil
}

func (fakeCDNHeartbeats) Handle(_ context.Context, node string, hb *cdnwire.Heartbeat) (cdnwire.HeartbeatReply, error) {
	if node != "n1" {
		return cdnwire.HeartbeatReply{}, fmt.Errorf("handled for %q", node)
	}
	return cdnwire.HeartbeatReply{WantFull: !hb.Full, Tasks: []cdnwire.Task{{ID: fmt.Sprintf("seq%d-added%d", hb.Seq, len(hb.Added))}}}, nil
}

func TestCDNHeartbeatRoute(t *testing.T) {
	w := newWorld(t, worldOpts{})
	post := func(auth, body string) (int, string, cdnwire.HeartbeatReply) {
		t.Helper()
		req, _ := http.NewRequest("POST", w.http.URL+cdnwire.HeartbeatPath, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := w.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&raw)
		var reply cdnwire.HeartbeatReply
		var e Error
		_ = json.Unmarshal(raw, &reply)
		_ = json.Unmarshal(raw, &e)
		return resp.StatusCode, e.Code, reply
	}
	ok := `{"seq":3,"added":[{"kind":"poster","key":"/api/posters/1/x","bytes":5}]}`
	for _, tc := range []struct {
		name, auth, body string
		status           int
		code             string
	}{
		{"no credential", "", ok, 401, "node_refused"},
		{"a user's cookie is no node", "Basic x", ok, 401, "node_refused"},
		{"wrong credential", "Bearer nope", ok, 401, "node_refused"},
		{"not JSON", "Bearer node-cred", "{", 400, "bad_request"},
	} {
		if status, code, _ := post(tc.auth, tc.body); status != tc.status || code != tc.code {
			t.Errorf("%s: %d %q, want %d %q", tc.name, status, code, tc.status, tc.code)
		}
	}
	status, _, reply := post("Bearer node-cred", ok)
	if status != 200 || !reply.WantFull || len(reply.Tasks) != 1 || reply.Tasks[0].ID != "seq3-added1" {
		t.Fatalf("heartbeat: %d %+v", status, reply)
	}
}

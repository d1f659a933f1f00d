package ingest

import (
	"net/http"
	"testing"

	"github.com/marquee-party/marquee/internal/workerapi"
)

// Control requests are checked before the session is asked: an unknown
// action is 400 unknown_action even with nothing playing (not 409
// nothing_playing), and positions that would overflow a time.Duration are
// 400 bad_request.
func TestControlValidation(t *testing.T) {
	h := newHarness(t)
	h.create("v")
	huge, neg := 1e300, -1.0
	for _, tc := range []struct {
		name   string
		action string
		pos    *float64
		code   string
	}{
		{"unknown action", "rewind", nil, workerapi.CodeUnknownAction},
		{"empty action", "", nil, workerapi.CodeUnknownAction},
		{"seek past any media", ActionSeek, &huge, "bad_request"},
		{"seek before the start", ActionSeek, &neg, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e APIError
			code := h.call("POST", "/sessions/v/control", ControlRequest{Action: tc.action, PositionSeconds: tc.pos}, &e)
			if code != http.StatusBadRequest || e.Code != tc.code {
				t.Fatalf("%d %q, want 400 %q", code, e.Code, tc.code)
			}
		})
	}
	var e APIError
	req := PlayRequest{QueueEntryID: "e", Title: "t", MediaType: "movie",
		Playback: PlaybackItem{ItemID: "i", StreamURL: "/nowhere.mkv", StartSeconds: 1e300}}
	if code := h.call("POST", "/sessions/v/play", req, &e); code != http.StatusBadRequest || e.Code != "bad_request" {
		t.Fatalf("play from 1e300 s: %d %q, want 400 bad_request", code, e.Code)
	}
}

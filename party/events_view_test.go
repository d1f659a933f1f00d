package party

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestForViewer: an event's internal detail is removed, from a fresh
// payload and from one read back from the log; other events are unchanged.
func TestForViewer(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{"fresh", map[string]any{"error": "The media worker did not answer", "detail": "dial tcp 10.0.0.5:8090"},
			map[string]any{"error": "The media worker did not answer"}},
		{"from the log", json.RawMessage(`{"action":"play","detail":"dial tcp 10.0.0.5:8090","error":"E"}`),
			map[string]any{"action": "play", "error": "E"}},
		{"no detail", json.RawMessage(`{"entryId":3}`), json.RawMessage(`{"entryId":3}`)},
		{"not an object", json.RawMessage(`[1,"detail"]`), json.RawMessage(`[1,"detail"]`)},
		{"nil", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PartyEvent{ID: 7, Type: "worker.error", Payload: tc.in}.ForViewer()
			if got.ID != 7 || !reflect.DeepEqual(got.Payload, tc.want) {
				t.Fatalf("ForViewer(%v) = %#v, want %#v", tc.in, got.Payload, tc.want)
			}
		})
	}
}

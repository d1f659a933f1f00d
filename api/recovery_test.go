package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/party"
	"github.com/marquee-party/marquee/party/workertest"
)

// TestIngestKilledMidItemRecoversAtLastPosition kills the (fake) ingest
// during playback; the API notices the missing heartbeats, re-creates the
// worker session on the restarted worker and replays the entry from the
// last position it heard, all through the real HTTP routes.
func TestIngestKilledMidItemRecoversAtLastPosition(t *testing.T) {
	w := newWorld(t, worldOpts{heartbeat: 40 * time.Millisecond})
	_, item := w.addItem("Long")
	host, _ := w.user("host", auth.RoleMember)
	var pv partyView
	host.must(201, "POST", "/api/parties", map[string]any{"itemId": item}, &pv)
	base := fmt.Sprintf("/api/parties/%d", pv.ID)
	events := host.stream(base + "/events")
	host.must(200, "POST", base+"/control", map[string]string{"action": "play"}, nil)
	host.must(200, "POST", base+"/control", map[string]any{"action": "seek", "positionSeconds": 1800}, nil)
	var ws party.WorkerState
	eventually(t, "a heartbeat after the seek", func() bool {
		host.must(200, "GET", base+"/worker", nil, &ws)
		return ws.PositionSeconds > 1800.001 && ws.Status == party.WorkerActive
	})
	host.must(200, "GET", base, nil, &pv)
	oldSession := pv.WorkerSessionID

	addr := w.worker.Addr()
	w.worker.Kill()
	events.waitFor(t, "worker.lost")
	host.must(200, "GET", base+"/worker", nil, &ws)
	last := ws.PositionSeconds
	var err error
	eventually(t, "the worker restarts", func() bool {
		w.worker, err = workertest.Start(addr, workerSecret, 40*time.Millisecond)
		return err == nil
	})
	ev := events.waitFor(t, "worker.recovered")
	t.Logf("recovered: %s", ev.Payload)
	host.must(200, "GET", base, nil, &pv)
	if pv.WorkerSessionID == oldSession || pv.Worker.Recoveries != 1 {
		t.Fatalf("after recovery: session %q (was %q), recoveries %d", pv.WorkerSessionID, oldSession, pv.Worker.Recoveries)
	}
	ses, ok := w.worker.Session(pv.WorkerSessionID)
	if !ok || ses.StartSeconds < last || ses.StartSeconds < 1800 || ses.QueueEntryID != fmt.Sprint(*pv.CurrentEntryID) {
		t.Fatalf("restarted session = %+v, last known position %.2f", ses, last)
	}
	eventually(t, "playing again", func() bool {
		host.must(200, "GET", base, nil, &pv)
		return pv.Status == party.StatusPlaying
	})
}

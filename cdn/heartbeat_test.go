package cdn

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// fakeAPI answers heartbeats on the fake origin and passes them to the test.
type fakeAPI struct {
	mu       sync.Mutex
	status   int  // answer; 200 when zero
	wantFull bool // in the next reply
	tasks    []cdnwire.Task
	got      chan cdnwire.Heartbeat
	auth     chan string
}

func withFakeAPI(t *testing.T, h *harness) *fakeAPI {
	a := &fakeAPI{got: make(chan cdnwire.Heartbeat, 16), auth: make(chan string, 16)}
	h.origin.mu.Lock()
	defer h.origin.mu.Unlock()
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != cdnwire.HeartbeatPath {
			h.origin.mu.Lock()
			body, ok := h.origin.objects[r.URL.Path]
			h.origin.mu.Unlock()
			if !ok {
				http.NotFound(w, r)
				return
			}
			http.ServeContent(w, r, "", t0.Add(-time.Hour), bytes.NewReader(body))
			return
		}
		var hb cdnwire.Heartbeat
		if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
			t.Errorf("heartbeat body: %v", err)
		}
		a.mu.Lock()
		status, reply := a.status, cdnwire.HeartbeatReply{WantFull: a.wantFull, Tasks: a.tasks}
		a.wantFull, a.tasks = false, nil
		a.mu.Unlock()
		a.auth <- r.Header.Get("Authorization")
		a.got <- hb
		if status != 0 {
			http.Error(w, "down for maintenance", status)
			return
		}
		_ = json.NewEncoder(w).Encode(reply)
	}
	return a
}

func (a *fakeAPI) next(t *testing.T) cdnwire.Heartbeat {
	t.Helper()
	select {
	case hb := <-a.got:
		return hb
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat arrived")
		return cdnwire.Heartbeat{}
	}
}

// refs renders object references as "key[first-last]" strings.
func refs(rs []cdnwire.ObjectRef) []string {
	var out []string
	for _, r := range rs {
		s := r.Key
		if r.First != nil {
			s += "[" + itoa(*r.First) + "-" + itoa(*r.Last) + "]"
		}
		out = append(out, s)
	}
	return out
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func eq(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHeartbeatReportsDeltasAndKeepsThemAcrossFailures(t *testing.T) {
	const cred = "node-credential-never-logged"
	h := newHarness(t, func(p *Params) { p.NodeID, p.Credential, p.Version = "n1", cred, "v-test" })
	api := withFakeAPI(t, h)
	const dir = "/api/hls/7/v1/720p/s/"
	for _, p := range []string{dir + "0.m4s", dir + "1.m4s", dir + "2.m4s", dir + "init.mp4", "/api/posters/7/w300", "/api/posters/8/w300"} {
		h.origin.put(p, payload(1000, 1), nil)
	}
	h.get(dir + "0.m4s")
	var tasks []cdnwire.Task
	tick := make(chan time.Time)
	hbr, err := h.node.newHeartbeater(func(ts []cdnwire.Task) { tasks = append(tasks, ts...) }, nil, tick)
	if err != nil {
		t.Fatal(err)
	}
	defer hbr.Close()

	hb := api.next(t)
	if got := <-api.auth; got != "Bearer "+cred {
		t.Fatalf("Authorization = %q", got)
	}
	if !hb.Full || !eq(refs(hb.Added), []string{dir + "[0-0]"}) || hb.Health.Version != "v-test" || hb.Capacity.MaxBytes != 64<<20 {
		t.Fatalf("first heartbeat = %+v, want Full with %s[0-0]", hb, dir)
	}
	if hb.Added[0].ItemID != 7 || hb.Added[0].Bytes != 1000 || hb.Capacity.UsedBytes == 0 {
		t.Fatalf("first heartbeat ref %+v capacity %+v", hb.Added[0], hb.Capacity)
	}

	h.get(dir + "1.m4s")
	h.get(dir + "2.m4s")
	h.get(dir + "init.mp4")
	h.get("/api/posters/7/w300")
	api.mu.Lock()
	api.tasks = []cdnwire.Task{{ID: "t1", Kind: cdnwire.TaskPrefetch}}
	api.mu.Unlock()
	tick <- t0
	hb = api.next(t)
	<-api.auth
	want := []string{dir + "[1-2]", dir + "init.mp4", "/api/posters/7/w300"}
	if hb.Full || !eq(refs(hb.Added), want) || len(hb.Evicted) != 0 {
		t.Fatalf("second heartbeat added %v evicted %v full %v, want %v", refs(hb.Added), refs(hb.Evicted), hb.Full, want)
	}
	if hb.Health.HitRatio != 0 || hb.Health.OriginBytes != 4000+1000 {
		t.Fatalf("health %+v: want hit ratio 0 (all misses) and 5000 origin bytes", hb.Health)
	}

	// The API fails: the deltas of the failed heartbeat come again.
	api.mu.Lock()
	api.status = http.StatusServiceUnavailable
	api.mu.Unlock()
	h.get("/api/posters/8/w300")
	h.get(dir + "1.m4s") // a hit
	h.node.cache.mu.Lock()
	e := h.node.cache.index[dir+"2.m4s"]
	h.node.cache.mu.Unlock()
	h.node.cache.drop(e)
	tick <- t0
	hb = api.next(t)
	<-api.auth
	api.mu.Lock()
	api.status = 0
	api.wantFull = true
	api.mu.Unlock()
	tick <- t0
	hb2 := api.next(t)
	<-api.auth
	for _, b := range []cdnwire.Heartbeat{hb, hb2} {
		if b.Full || !eq(refs(b.Added), []string{"/api/posters/8/w300"}) || !eq(refs(b.Evicted), []string{dir + "[2-2]"}) {
			t.Fatalf("heartbeat %d added %v evicted %v, want the poster added and segment 2 evicted", b.Seq, refs(b.Added), refs(b.Evicted))
		}
	}
	if hb2.Seq != hb.Seq+1 || hb.Health.HitRatio != 0.5 {
		t.Fatalf("seq %d then %d; hit ratio %v, want 0.5", hb.Seq, hb2.Seq, hb.Health.HitRatio)
	}

	// The API asked for the whole inventory.
	tick <- t0
	hb = api.next(t)
	<-api.auth
	want = []string{dir + "[0-1]", dir + "init.mp4", "/api/posters/7/w300", "/api/posters/8/w300"}
	if !hb.Full || !eq(refs(hb.Added), want) || len(hb.Evicted) != 0 {
		t.Fatalf("after WantFull: full %v added %v, want %v", hb.Full, refs(hb.Added), want)
	}
	hbr.Close()
	if len(tasks) != 1 || tasks[0].ID != "t1" {
		t.Fatalf("tasks handed on: %+v", tasks)
	}
}

func TestHeartbeatNeedsCredentialAndCloseCutsOffAHungAPI(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.node.StartHeartbeat(nil); err == nil {
		t.Fatal("a node without a credential started heartbeats")
	}
	h = newHarness(t, func(p *Params) { p.Credential = "c" })
	hung := make(chan struct{})
	h.origin.mu.Lock()
	h.origin.handle = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}
	h.origin.mu.Unlock()
	hbr, err := h.node.StartHeartbeat(nil)
	if err != nil {
		t.Fatal(err)
	}
	hbr.Close() // must return although the API never answers
	close(hung)
}

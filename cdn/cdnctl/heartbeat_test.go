package cdnctl

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// hbAuth is a fake NodeAuth: credential → node id; "revoked" fails.
type hbAuth map[string]string

func (a hbAuth) Authenticate(_ context.Context, cred string) (string, error) {
	if id, ok := a[cred]; ok {
		return id, nil
	}
	return "", errors.New("unknown credential")
}

var hbT0 = time.Unix(1_800_000_000, 0)

type hbFixture struct {
	db    *sql.DB
	hb    *Heartbeats
	tasks *Tasks
	now   time.Time
	reg   *prometheus.Registry
}

func newHBFixture(t testing.TB) *hbFixture {
	f := &hbFixture{db: ixDB(t), tasks: NewTasks(), now: hbT0, reg: prometheus.NewRegistry()}
	for _, id := range []string{"n1", "n2"} {
		if _, err := f.db.Exec(`INSERT INTO cdn_nodes (id, name, mode, public_url, credential_hash, state, created_at, last_seen)
			VALUES (?, ?, 'shared', 'http://x', ?, 'up', 0, 0)`, id, id, "h-"+id); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	f.hb, err = NewHeartbeats(HeartbeatParams{Auth: hbAuth{"c1": "n1", "c2": "n2"}, Index: NewSQLiteIndex(f.db),
		Nodes: NewSQLiteNodes(f.db), Tasks: f.tasks, Every: 10 * time.Second, Registerer: f.reg,
		Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// beat authenticates cred and handles hb, as the API's route does.
func (f *hbFixture) beat(ctx context.Context, cred string, hb *cdnwire.Heartbeat) (cdnwire.HeartbeatReply, error) {
	node, err := f.hb.Authenticate(ctx, cred)
	if err != nil {
		return cdnwire.HeartbeatReply{}, err
	}
	return f.hb.Handle(ctx, node, hb)
}

func (f *hbFixture) state(t *testing.T, id string) (state string, lastSeen int64, health cdnwire.Health) {
	t.Helper()
	var hj string
	if err := f.db.QueryRow(`SELECT state, last_seen, health_json FROM cdn_nodes WHERE id = ?`, id).Scan(&state, &lastSeen, &hj); err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshal(hj, &health); err != nil {
		t.Fatal(err)
	}
	return state, lastSeen, health
}

func TestHeartbeatsApplyReplyAndMarkDown(t *testing.T) {
	ctx := context.Background()
	f := newHBFixture(t)
	const dir = "/api/hls/3/v/720p/s/"

	if _, err := f.beat(ctx, "wrong", &cdnwire.Heartbeat{}); !errors.Is(err, ErrNodeRefused) {
		t.Fatalf("unknown credential: %v, want ErrNodeRefused", err)
	}
	// A delta from a node this process has not heard from: applied, and
	// the whole inventory is asked for.
	f.tasks.Enqueue("n1", cdnwire.Task{ID: "t1", Kind: cdnwire.TaskReplicate})
	r, err := f.beat(ctx, "c1", &cdnwire.Heartbeat{Seq: 5, Added: []cdnwire.ObjectRef{segs(dir, 3, 0, 9, 1000)},
		Health: cdnwire.Health{HitRatio: 0.75, Version: "v1"}, Capacity: cdnwire.Capacity{UsedBytes: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if !r.WantFull || len(r.Tasks) != 1 || r.Tasks[0].ID != "t1" {
		t.Fatalf("reply %+v, want WantFull and task t1", r)
	}
	if h, _ := f.hb.p.Index.Holders(ctx, dir+"9.m4s"); !reflect.DeepEqual(h, []string{"n1"}) {
		t.Fatalf("holders %v", h)
	}
	st, seen, health := f.state(t, "n1")
	if st != "up" || seen != hbT0.Unix() || health.HitRatio != 0.75 || health.Version != "v1" {
		t.Fatalf("n1: %s %d %+v", st, seen, health)
	}
	if r, _ = f.beat(ctx, "c1", &cdnwire.Heartbeat{Seq: 6, Full: true}); r.WantFull || len(r.Tasks) != 0 {
		t.Fatalf("after a Full: %+v", r)
	}
	if r, _ = f.beat(ctx, "c1", &cdnwire.Heartbeat{Seq: 7}); r.WantFull {
		t.Fatal("a known node was asked for a full inventory again")
	}
	if h, _ := f.hb.p.Index.Holders(ctx, dir+"9.m4s"); len(h) != 0 {
		t.Fatalf("the empty full inventory left holders %v", h)
	}
	if got := testutil.ToFloat64(f.hb.m.perNode.WithLabelValues("n1", "hit_ratio")); got != 0 {
		t.Fatalf("per-node hit ratio gauge %v after a heartbeat reporting 0", got)
	}

	// n2 heard at t0; 3 periods later (and a bit) both silent nodes are down.
	f.now = hbT0.Add(2 * time.Second)
	if _, err := f.beat(ctx, "c2", &cdnwire.Heartbeat{Full: true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		down []string
	}{
		{30 * time.Second, nil},
		{31 * time.Second, []string{"n1"}},
		{33 * time.Second, []string{"n2"}},
		{60 * time.Second, nil},
	} {
		f.now = hbT0.Add(tc.at)
		down, err := f.hb.Sweep(ctx)
		if err != nil || !reflect.DeepEqual(down, tc.down) {
			t.Fatalf("sweep at +%s: %v (%v), want %v", tc.at, down, err, tc.down)
		}
	}
	if st, _, _ := f.state(t, "n1"); st != "down" {
		t.Fatalf("n1 is %s", st)
	}
	if got := testutil.ToFloat64(f.hb.m.down); got != 2 {
		t.Fatalf("nodes_marked_down_total = %v", got)
	}
	// A heartbeat brings it back; a revoked node stays revoked.
	if _, err := f.beat(ctx, "c1", &cdnwire.Heartbeat{}); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := f.state(t, "n1"); st != "up" {
		t.Fatalf("n1 after a heartbeat is %s", st)
	}
	if _, err := f.db.Exec(`UPDATE cdn_nodes SET state = 'revoked' WHERE id = 'n2'`); err != nil {
		t.Fatal(err)
	}
	if err := f.hb.p.Nodes.Report(ctx, "n2", cdnwire.Capacity{}, cdnwire.Health{}, f.now); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := f.state(t, "n2"); st != "revoked" {
		t.Fatalf("revoked n2 is %s after a report", st)
	}
}

// BenchmarkNewObjectInIndex measures how long after the API receives a
// heartbeat a new object is in the global index (SQLite, synchronous=FULL):
// one Handle with one new segment run, then a Holders lookup that finds
// it. A node's new object waits in addition up to one heartbeat period.
func BenchmarkNewObjectInIndex(b *testing.B) {
	ctx := context.Background()
	f := newHBFixture(b)
	if _, err := f.beat(ctx, "c1", &cdnwire.Heartbeat{Full: true}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := fmt.Sprintf("/api/hls/%d/v/720p/s/", i+1)
		if _, err := f.beat(ctx, "c1", &cdnwire.Heartbeat{Seq: uint64(i), Added: []cdnwire.ObjectRef{segs(dir, int64(i+1), 0, 0, 1000)}}); err != nil {
			b.Fatal(err)
		}
		if h, err := f.hb.p.Index.Holders(ctx, dir+"0.m4s"); err != nil || len(h) != 1 {
			b.Fatalf("not in the index: %v %v", h, err)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

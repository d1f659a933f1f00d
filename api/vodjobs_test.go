package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/internal/vodjobs"
)

// fakeJobs is a job runner the test drives by hand (vod.Jobs is tested
// with real encodes in package vod and end to end in e2e).
type fakeJobs struct {
	mu      sync.Mutex
	jobs    []vodjobs.Job
	targets [][]vodjobs.Target
	subs    []chan struct{}
}

func (f *fakeJobs) Start(targets []vodjobs.Target, renditions []string, by string) (vodjobs.Job, error) {
	for _, r := range renditions {
		if r == "4k" {
			return vodjobs.Job{}, fmt.Errorf("%w: unknown rendition %q", vodjobs.ErrInvalid, r)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	j := vodjobs.Job{ID: int64(len(f.jobs) + 1), State: vodjobs.Queued, Renditions: renditions, CreatedBy: by}
	for _, t := range targets {
		j.Items = append(j.Items, vodjobs.Item{ItemID: t.ItemID, Title: t.Title, State: vodjobs.Queued})
	}
	j.Total = 4
	f.jobs = append(f.jobs, j)
	f.targets = append(f.targets, targets)
	return j, nil
}

func (f *fakeJobs) List() []vodjobs.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.jobs)
}

func (f *fakeJobs) Get(id int64) (vodjobs.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id < 1 || int(id) > len(f.jobs) {
		return vodjobs.Job{}, vodjobs.ErrNotFound
	}
	return f.jobs[id-1], nil
}

func (f *fakeJobs) Cancel(_ context.Context, id int64) (vodjobs.Job, error) {
	if _, err := f.Get(id); err != nil {
		return vodjobs.Job{}, err
	}
	f.change(id, func(j *vodjobs.Job) { j.State = vodjobs.Cancelled })
	return f.Get(id)
}

func (f *fakeJobs) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	return ch, func() {}
}

// change updates job id and signals subscribers.
func (f *fakeJobs) change(id int64, do func(*vodjobs.Job)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	do(&f.jobs[id-1])
	f.jobs[id-1].Seq++
	for _, ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func TestVODJobsAdminOnly(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.srv.p.VODJobs = &fakeJobs{}
	_, item := w.addItem("Film")
	body := map[string]any{"itemIds": []int64{item}, "renditions": []string{"720p"}}
	member, _ := w.user("member", auth.RoleMember)
	guest, _ := w.user("guest", auth.RoleGuest)
	for _, c := range []*client{member, guest} {
		c.must(403, "POST", "/api/admin/vod/jobs", body, nil)
		c.must(403, "GET", "/api/admin/vod/jobs", nil, nil)
		c.must(403, "DELETE", "/api/admin/vod/jobs/1", nil, nil)
	}
	w.browser().must(401, "GET", "/api/admin/vod/jobs/1/events", nil, nil)
	admin, _ := w.user("root", auth.RoleAdmin)
	var job vodjobs.Job
	admin.must(202, "POST", "/api/admin/vod/jobs", body, &job)
	if job.ID != 1 || job.State != vodjobs.Queued || job.CreatedBy != "root" || len(job.Items) != 1 || job.Items[0].ItemID != item {
		t.Fatalf("job %+v", job)
	}
	var list struct{ Jobs []vodjobs.Job }
	admin.must(200, "GET", "/api/admin/vod/jobs", nil, &list)
	if len(list.Jobs) != 1 {
		t.Fatalf("list %+v", list)
	}
}

func TestVODJobBadInput(t *testing.T) {
	w := newWorld(t, worldOpts{})
	jobs := &fakeJobs{}
	w.srv.p.VODJobs = jobs
	lib, item := w.addItem("Film")
	admin, _ := w.user("root", auth.RoleAdmin)
	for _, tc := range []struct {
		body any
		want string
	}{
		{map[string]any{"itemIds": []int64{item}}, "renditions is empty"},
		{map[string]any{"renditions": []string{"720p"}}, "either itemIds"},
		{map[string]any{"itemIds": []int64{item}, "libraryId": lib, "renditions": []string{"720p"}}, "either itemIds"},
		{map[string]any{"itemIds": []int64{999999}, "renditions": []string{"720p"}}, "item 999999 does not exist"},
		{map[string]any{"libraryId": 999999, "renditions": []string{"720p"}}, "library 999999 does not exist"},
		{map[string]any{"itemIds": []int64{item}, "renditions": []string{"4k"}}, `unknown rendition "4k"`},
		{`{"itemIds": "all"}`, "not valid JSON"},
	} {
		r := admin.do("POST", "/api/admin/vod/jobs", tc.body)
		var e Error
		_ = json.Unmarshal(r.body, &e)
		if r.status != 400 || !strings.Contains(e.Message, tc.want) {
			t.Errorf("POST %v = %d %s, want 400 saying %q", tc.body, r.status, r.body, tc.want)
		}
	}
	admin.must(400, "GET", "/api/admin/vod/jobs/abc", nil, nil)
	admin.must(404, "GET", "/api/admin/vod/jobs/7", nil, nil)
	admin.must(404, "DELETE", "/api/admin/vod/jobs/7", nil, nil)
	// A whole library resolves to its films, each with its library root.
	_, other := w.addItem("Other")
	admin.must(202, "POST", "/api/admin/vod/jobs", map[string]any{"libraryId": lib, "renditions": []string{"480p"}}, nil)
	var ids []int64
	for _, tg := range jobs.targets[0] {
		if tg.Open == nil || !strings.HasSuffix(tg.Path, tg.Title+".mkv") {
			t.Errorf("target %+v", tg)
		}
		ids = append(ids, tg.ItemID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{item, other}) {
		t.Fatalf("library job targets %v, want %v", ids, []int64{item, other})
	}
}

// TestVODJobEventsAndCancel: the stream sends the job now and after each
// change, with growing progress, and ends with the cancelled job.
func TestVODJobEventsAndCancel(t *testing.T) {
	w := newWorld(t, worldOpts{})
	jobs := &fakeJobs{}
	w.srv.p.VODJobs = jobs
	_, item := w.addItem("Film")
	admin, _ := w.user("root", auth.RoleAdmin)
	var job vodjobs.Job
	admin.must(202, "POST", "/api/admin/vod/jobs", map[string]any{"itemIds": []int64{item}, "renditions": []string{"240p"}}, &job)
	req, _ := http.NewRequest("GET", w.http.URL+fmt.Sprintf("/api/admin/vod/jobs/%d/events", job.ID), nil)
	res, err := admin.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := make(chan vodjobs.Job)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var j vodjobs.Job
				if json.Unmarshal([]byte(data), &j) == nil {
					events <- j
				}
			}
		}
	}()
	last := <-events
	if last.State != vodjobs.Queued || last.Done != 0 {
		t.Fatalf("first event %+v", last)
	}
	for done := 1; done <= 2; done++ {
		jobs.change(job.ID, func(j *vodjobs.Job) { j.State, j.Done = vodjobs.Running, done })
		ev := <-events
		if ev.Seq <= last.Seq || ev.Done != done || ev.State != vodjobs.Running {
			t.Fatalf("event %+v after %+v, want done %d", ev, last, done)
		}
		last = ev
	}
	var cancelled vodjobs.Job
	admin.must(200, "DELETE", fmt.Sprintf("/api/admin/vod/jobs/%d", job.ID), nil, &cancelled)
	if cancelled.State != vodjobs.Cancelled {
		t.Fatalf("DELETE answered %+v", cancelled)
	}
	ev, ok := <-events
	if !ok || ev.State != vodjobs.Cancelled || ev.Done != 2 {
		t.Fatalf("last event %+v (%v), want the cancelled job", ev, ok)
	}
	if _, ok := <-events; ok {
		t.Fatal("the stream went on after the job ended")
	}
}

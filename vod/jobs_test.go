package vod

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/vodjobs"
	"github.com/marquee-party/marquee/library"
	"github.com/marquee-party/marquee/vod/segcache"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// jobs starts the fixture's job runner, closed before the service.
func (fx *fixture) jobs() *Jobs {
	js, err := NewJobs(fx.svc, fx.reg, nil)
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.t.Cleanup(js.Close)
	return js
}

func (fx *fixture) target() vodjobs.Target {
	return vodjobs.Target{ItemID: 1, Title: "Film", Open: fx.root, Path: fx.path}
}

// waitJob waits until ok holds for job id, and returns it.
func waitJob(t *testing.T, js *Jobs, id int64, ok func(vodjobs.Job) bool) vodjobs.Job {
	t.Helper()
	ch, stop := js.Subscribe()
	defer stop()
	deadline := time.After(2 * time.Minute) // a bound on a hung test
	for {
		st, err := js.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("job %d never got there: %+v", id, st)
		}
	}
}

func final(st vodjobs.Job) bool { return st.State.Final() }

// TestJobEncodesOnlyMissingSegments: a viewer has made the init segment
// and two segments; a job for 240p and 720p (which a 240-line source does
// not have) encodes exactly the other segments, and a second job 0.
func TestJobEncodesOnlyMissingSegments(t *testing.T) {
	fx := newFixture(t, 0)
	for _, k := range []int{segcache.InitIndex, 0, 1} {
		fx.get(k)
	}
	js := fx.jobs()
	st, err := js.Start([]vodjobs.Target{fx.target()}, []string{"240p", "720p", "240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	st = waitJob(t, js, st.ID, final)
	x := st.Items[0]
	if st.State != vodjobs.Done || x.State != vodjobs.Done || !slices.Equal(x.Renditions, []string{"240p"}) ||
		!slices.Equal(x.Skipped, []string{"720p"}) {
		t.Fatalf("job %+v", st)
	}
	if x.Total != 6 || x.Done != 6 || x.Encoded != 3 || st.Encoded != 3 || x.Bytes <= 0 || st.Bytes != x.Bytes {
		t.Fatalf("progress %+v, want 6 of 6 done, 3 encoded, bytes counted", x.Progress)
	}
	if got := fx.encodes(); got != 6 {
		t.Fatalf("%d encodes in all for 5 segments and an init segment, want 6", got)
	}
	if got := testutil.ToFloat64(js.segs); got != 3 {
		t.Fatalf("job segments metric %v, want 3", got)
	}
	again, err := js.Start([]vodjobs.Target{fx.target()}, []string{"240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	again = waitJob(t, js, again.ID, final)
	if again.State != vodjobs.Done || again.Done != 6 || again.Encoded != 0 || again.Bytes != st.Bytes || fx.encodes() != 6 {
		t.Fatalf("second job %+v after %d encodes, want 6 done from the cache and no encode", again.Progress, fx.encodes())
	}
	if got := testutil.ToFloat64(js.state.WithLabelValues("done")); got != 2 {
		t.Fatalf("jobs{state=done} = %v, want 2", got)
	}
}

func TestJobRefusesBadInput(t *testing.T) {
	fx := newFixture(t, 0)
	js := fx.jobs()
	for _, tc := range []struct {
		targets    []vodjobs.Target
		renditions []string
		want       string
	}{
		{[]vodjobs.Target{fx.target()}, []string{"4k"}, `unknown rendition "4k"`},
		{[]vodjobs.Target{fx.target()}, nil, "no renditions"},
		{nil, []string{"240p"}, "no items"},
	} {
		_, err := js.Start(tc.targets, tc.renditions, "admin")
		if !errors.Is(err, vodjobs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Start(%v): %v, want ErrInvalid saying %q", tc.renditions, err, tc.want)
		}
	}
	if _, err := js.Get(42); !errors.Is(err, vodjobs.ErrNotFound) {
		t.Errorf("Get(42): %v", err)
	}
}

// hold takes the service's only encode slot: no encode starts until
// release.
func hold(s *Service) (release func()) {
	s.workers <- struct{}{}
	return func() { <-s.workers }
}

// waiting waits until n encodes wait for a slot.
func waiting(t *testing.T, s *Service, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); int(testutil.ToFloat64(s.m.waiting)) != n; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%v encodes wait for a slot, want %d", testutil.ToFloat64(s.m.waiting), n)
		}
	}
}

// step lets exactly one encode through a held slot: it waits for an
// encode to ask for the slot, hands the slot over, and takes it back once
// that encode is done.
func step(t *testing.T, s *Service) {
	t.Helper()
	waiting(t, s, 1)
	<-s.workers
	waiting(t, s, 0)
	s.workers <- struct{}{}
}

// encoderOf returns the encoder of the fixture's 240p rendition, once it
// exists.
func (fx *fixture) encoderOf(t *testing.T, name string) *encoder {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		fx.svc.mu.Lock()
		for id, e := range fx.svc.encoders {
			if strings.HasSuffix(id, "/"+name) {
				fx.svc.mu.Unlock()
				return e
			}
		}
		fx.svc.mu.Unlock()
	}
	t.Fatal("no encoder started")
	return nil
}

// queued waits until e's request queue holds n requests.
func queued(t *testing.T, e *encoder, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); len(e.reqs) != n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", len(e.reqs), n)
		}
	}
}

// TestJobCancelMidJob: with the encode slot held, the job gets two
// segments made, then is cancelled: it stops at once (without waiting for
// the encode in flight), only that one more segment is made, and every
// cached object is whole.
func TestJobCancelMidJob(t *testing.T) {
	fx := newFixture(t, 0)
	js := fx.jobs()
	release := hold(fx.svc)
	st, err := js.Start([]vodjobs.Target{fx.target()}, []string{"240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	step(t, fx.svc)       // the init segment
	step(t, fx.svc)       // segment 0
	waiting(t, fx.svc, 1) // segment 1
	st, err = js.Cancel(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != vodjobs.Cancelled || st.Items[0].State != vodjobs.Cancelled || st.Done != 2 {
		t.Fatalf("cancelled job %+v", st)
	}
	release()
	js.Close()
	fx.svc.Close() // waits for the encoder
	made := fx.encodes()
	if made != 3 {
		t.Fatalf("%d encodes after cancelling a job that had %d done, want those and the one in flight", made, st.Done)
	}
	if n := fx.svc.cache.Len(); n != made {
		t.Fatalf("cache holds %d objects after %d encodes", n, made)
	}
	err = filepath.WalkDir(fx.cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "tmp") {
			t.Errorf("temporary file left: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.start(0)
	init := fx.get(segcache.InitIndex)
	for k := 0; k < 5; k++ {
		probeSegment(t, init, fx.get(k)) // each decodes
	}
	if got := fx.encodes(); got != 6-made {
		t.Fatalf("a viewer afterwards made %d encodes, want the %d missing", got, 6-made)
	}
}

// TestViewerDuringJobGoesFirst: a viewer asking for the last segment while
// a job waits on the same encoder is answered before the job's next
// segment, not after the whole job; the job then finds that segment cached.
func TestViewerDuringJobGoesFirst(t *testing.T) {
	fx := newFixture(t, 0)
	js := fx.jobs()
	release := hold(fx.svc)
	st, err := js.Start([]vodjobs.Target{fx.target()}, []string{"240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	e := fx.encoderOf(t, "240p")
	waiting(t, fx.svc, 1) // the job's init segment waits for the slot
	got := make(chan vodjobs.Job, 1)
	go func() {
		fx.get(4)
		st, _ := js.Get(st.ID)
		got <- st
	}()
	queued(t, e, 1) // the viewer's request is behind it
	release()
	mid := <-got
	if mid.Done > 1 {
		t.Fatalf("the viewer was answered after %d job segments, want at most the one in flight", mid.Done)
	}
	st = waitJob(t, js, st.ID, final)
	if st.State != vodjobs.Done || st.Done != 6 || st.Encoded != 5 || fx.encodes() != 6 {
		t.Fatalf("job %+v after %d encodes; want 6 done, 5 by the job, 6 encodes in all", st.Progress, fx.encodes())
	}
}

// TestJobCorruptItemFailsAlone: an unreadable file fails its item with
// the reason; the job's other item is encoded and the job is done.
func TestJobCorruptItemFailsAlone(t *testing.T) {
	fx := newFixture(t, 0)
	bad := filepath.Join(filepath.Dir(fx.path), "bad.mp4")
	if err := os.WriteFile(bad, []byte(strings.Repeat("not a film ", 5000)), 0o600); err != nil {
		t.Fatal(err)
	}
	js := fx.jobs()
	st, err := js.Start([]vodjobs.Target{{ItemID: 2, Title: "Bad", Open: fx.root, Path: bad}, fx.target()},
		[]string{"240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	st = waitJob(t, js, st.ID, final)
	b, g := st.Items[0], st.Items[1]
	if st.State != vodjobs.Done || b.State != vodjobs.Failed || !strings.Contains(b.Error, "unreadable") ||
		g.State != vodjobs.Done || g.Done != 6 {
		t.Fatalf("job %+v", st)
	}
	// A job of only bad items fails.
	st, err = js.Start([]vodjobs.Target{{ItemID: 2, Title: "Bad", Open: fx.root, Path: bad}}, []string{"240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if st = waitJob(t, js, st.ID, final); st.State != vodjobs.Failed || st.Error == "" {
		t.Fatalf("job of one bad item: %+v", st)
	}
}

// TestJobsRunOneAtATime: a second job waits, queued, while the first
// runs; cancelling it there ends it at once and leaves the first alone.
func TestJobsRunOneAtATime(t *testing.T) {
	fx := newFixture(t, 0)
	js := fx.jobs()
	release := hold(fx.svc)
	a, err := js.Start([]vodjobs.Target{fx.target()}, []string{"240p"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	b, err := js.Start([]vodjobs.Target{fx.target()}, []string{"src"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, js, a.ID, func(st vodjobs.Job) bool { return st.State == vodjobs.Running })
	waiting(t, fx.svc, 1) // a's first segment waits for the slot
	if st, _ := js.Get(b.ID); st.State != vodjobs.Queued || st.Started != nil {
		t.Fatalf("second job %+v while the first runs, want queued", st)
	}
	if got := testutil.ToFloat64(js.state.WithLabelValues("queued")); got != 1 {
		t.Fatalf("jobs{state=queued} = %v, want 1", got)
	}
	b, err = js.Cancel(context.Background(), b.ID)
	if err != nil || b.State != vodjobs.Cancelled || b.Items[0].State != vodjobs.Cancelled {
		t.Fatalf("cancel queued job: %+v, %v", b, err)
	}
	release()
	if a = waitJob(t, js, a.ID, final); a.State != vodjobs.Done || a.Encoded != 6 {
		t.Fatalf("first job %+v, want done with 6 encodes", a)
	}
	if l := js.List(); len(l) != 2 || l[0].ID != b.ID {
		t.Fatalf("List %+v, want both jobs, newest first", l)
	}
}

// TestJobAudioRenditions: "audio" pre-encodes every alternate audio
// rendition (video renditions carry no sound), so a viewer's audio then
// costs no encode; a source without audio skips it.
func TestJobAudioRenditions(t *testing.T) {
	fx := newFixture(t, 0)
	js := fx.jobs()
	st, err := js.Start([]vodjobs.Target{fx.target()}, []string{"audio"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	st = waitJob(t, js, st.ID, final)
	x := st.Items[0]
	it, err := fx.svc.item(fx.root, fx.path)
	if err != nil {
		t.Fatal(err)
	}
	audio := AudioRenditions(it.tl)
	if len(audio) != 1 || st.State != vodjobs.Done || !slices.Equal(x.Renditions, []string{audio[0].Name}) ||
		x.Total != it.tl.view(audio[0]).Segments()+1 || x.Done != x.Total {
		t.Fatalf("audio job %+v for %d audio renditions", st, len(audio))
	}
	before := testutil.ToFloat64(fx.svc.m.encodes.WithLabelValues(audio[0].Name))
	for k := segcache.InitIndex; k < it.tl.view(audio[0]).Segments(); k++ {
		f, err := fx.svc.object(context.Background(), it, audio[0].Name, k)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if after := testutil.ToFloat64(fx.svc.m.encodes.WithLabelValues(audio[0].Name)); after != before {
		t.Fatalf("a viewer's audio after the job cost %v encodes, want 0", after-before)
	}

	silent := clip(t, "silent.mp4", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "3",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	root, err := library.NewRoot(filepath.Dir(silent))
	if err != nil {
		t.Fatal(err)
	}
	st, err = js.Start([]vodjobs.Target{{ItemID: 3, Title: "Silent", Open: root, Path: silent}}, []string{"audio"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if st = waitJob(t, js, st.ID, final); st.State != vodjobs.Done || !slices.Equal(st.Items[0].Skipped, []string{"audio"}) {
		t.Fatalf("audio job of a silent film %+v, want done with audio skipped", st)
	}
}

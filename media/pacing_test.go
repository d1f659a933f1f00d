package media

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// fakeClock only moves when Advance is called.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	afters  int // After calls so far: the player is idle when it grows
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.afters++
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

// Advance moves the clock and reports whether a waiter fired.
func (c *fakeClock) Advance(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept, fired := c.waiters[:0], false
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
		} else {
			w.ch <- c.now
			fired = true
		}
	}
	c.waiters = kept
	return fired
}

func (c *fakeClock) afterCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.afters
}

// TestPacing plays against a fake clock: every frame leaves exactly when
// its presentation timestamp says, never early, and never later than the
// clock's step.
func TestPacing(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	t0 := clock.Now()
	type emitted struct {
		f     Frame
		at    time.Duration
		video bool
	}
	var mu sync.Mutex
	var out []emitted
	rec := &recorder{onCall: func(kind string, f Frame) {
		mu.Lock()
		out = append(out, emitted{f, clock.Now().Sub(t0), kind == "video"})
		mu.Unlock()
	}}
	pl := NewPlayer(PlayerParams{URL: testmedia.Generate(t, testmedia.H264AAC), Config: DefaultConfig(),
		Sink: rec, Timeline: NewTimeline(t0), Clock: clock})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- pl.Run(ctx) }()
	defer func() {
		cancel()
		<-errc
	}()

	const step = 5 * time.Millisecond
	waitIdle := func(before int) {
		t.Helper()
		for i := 0; clock.afterCount() == before; i++ {
			if i > 20000 {
				t.Fatal("player never went idle")
			}
			time.Sleep(500 * time.Microsecond)
		}
	}
	waitIdle(0)
	for elapsed := time.Duration(0); elapsed < time.Second; elapsed += step {
		n := clock.afterCount()
		if clock.Advance(step) {
			waitIdle(n)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	var video, audio int
	for _, e := range out {
		if e.at < e.f.Position {
			t.Fatalf("frame at %v left early, at %v", e.f.Position, e.at)
		}
		if e.at > e.f.Position+step {
			t.Fatalf("frame at %v left late, at %v", e.f.Position, e.at)
		}
		if e.video && e.f.Layer == 0 {
			video++
		} else if !e.video {
			audio++
		}
	}
	// One second at 25 fps and 50 Opus packets/s, plus the frames at 0 and 1 s.
	if video < 25 || video > 26 || audio < 50 || audio > 51 {
		t.Fatalf("in 1 s of clock time: %d video frames, %d audio packets", video, audio)
	}
}

package media

import (
	"context"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

type sent struct {
	kind string
	f    Frame
}

// waitFrame returns the next video frame of layer 0 matching ok.
func waitFrame(t *testing.T, ch <-chan sent, ok func(Frame) bool) Frame {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-ch:
			if s.kind == "video" && s.f.Layer == 0 && ok(s.f) {
				return s.f
			}
		case <-deadline:
			t.Fatal("timed out waiting for a frame")
		}
	}
}

func waitState(t *testing.T, pl *Player, want State) Status {
	t.Helper()
	for range 3000 {
		if s := pl.Status(); s.State == want {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("state %s never reached (now %s)", want, pl.Status().State)
	return Status{}
}

func TestPauseResumeSeek(t *testing.T) {
	ch := make(chan sent, 4096)
	rec := &recorder{onCall: func(k string, f Frame) { ch <- sent{k, f} }}
	pl := NewPlayer(PlayerParams{
		URL: testmedia.Generate(t, testmedia.H264AAC), Config: DefaultConfig(),
		Sink: rec, Timeline: NewTimeline(time.Now()),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- pl.Run(ctx) }()

	first := waitFrame(t, ch, func(Frame) bool { return true })
	if !first.Keyframe {
		t.Fatal("first frame is not a keyframe")
	}
	before := waitFrame(t, ch, func(f Frame) bool { return f.Position >= time.Second })

	pl.Pause()
	paused := waitState(t, pl, StatePaused)
	_, video, _ := rec.snapshot()
	n := len(video[0])
	time.Sleep(400 * time.Millisecond)
	if _, video, _ = rec.snapshot(); len(video[0]) != n {
		t.Fatalf("%d frames sent while paused", len(video[0])-n)
	}
	lastBefore := video[0][n-1]
	if paused.Position != lastBefore.Position {
		t.Fatalf("paused at %v, last frame shown %v", paused.Position, lastBefore.Position)
	}
	// A viewer joining while paused asks for a keyframe and gets the
	// paused frame.
	pl.RequestKeyframe(0)
	still := waitFrame(t, ch, func(Frame) bool { return true })
	if !still.Keyframe || still.Position != paused.Position {
		t.Fatalf("still frame key=%v at %v, want keyframe at %v", still.Keyframe, still.Position, paused.Position)
	}
	for len(ch) > 0 {
		<-ch
	}

	pl.Resume()
	resumed := waitFrame(t, ch, func(Frame) bool { return true })
	if !resumed.Keyframe || resumed.Position != paused.Position {
		t.Fatalf("resumed with key=%v at %v, want keyframe at %v", resumed.Keyframe, resumed.Position, paused.Position)
	}
	st := waitState(t, pl, StatePlaying)
	if int32(resumed.Timestamp-still.Timestamp) <= 0 {
		t.Fatal("resume stamped earlier than the still frame")
	}
	if int32(resumed.Timestamp-lastBefore.Timestamp) < int32(400*VideoClockRate/1000) {
		t.Fatalf("RTP timestamp moved %d across a 400 ms pause", int32(resumed.Timestamp-lastBefore.Timestamp))
	}
	if want := st.Video.Timestamp + roundTicks(resumed.Position-st.Video.Position, VideoClockRate); resumed.Timestamp != want {
		t.Fatalf("timestamp %d does not follow anchor %+v (want %d)", resumed.Timestamp, st.Video, want)
	}
	_ = before

	target := 3 * time.Second
	pl.Seek(target)
	landed := waitFrame(t, ch, func(f Frame) bool { return f.Position >= target-time.Millisecond && f.Keyframe })
	if d := landed.Position - target; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("seek to %v landed at %v", target, landed.Position)
	}
	if int32(landed.Timestamp-resumed.Timestamp) <= 0 {
		t.Fatal("RTP timestamps went backwards across the seek")
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestPauseRightAfterSeek: pausing before the seek's first frame left
// pauses at the seek target, not where playback was before.
func TestPauseRightAfterSeek(t *testing.T) {
	ch := make(chan sent, 4096)
	rec := &recorder{onCall: func(k string, f Frame) { ch <- sent{k, f} }}
	pl := NewPlayer(PlayerParams{URL: testmedia.Generate(t, testmedia.H264AAC), Config: DefaultConfig(),
		Sink: rec, Timeline: NewTimeline(time.Now())})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- pl.Run(ctx) }()
	defer func() {
		cancel()
		<-errc
	}()
	waitFrame(t, ch, func(f Frame) bool { return f.Position >= 400*time.Millisecond })
	pl.Seek(2 * time.Second)
	pl.Pause()
	// Control messages are handled in order, before any frame goes out.
	if st := waitState(t, pl, StatePaused); st.Position != 2*time.Second {
		t.Fatalf("paused at %v, want 2s", st.Position)
	}
	for len(ch) > 0 {
		<-ch
	}
	pl.Resume()
	f := waitFrame(t, ch, func(Frame) bool { return true })
	if !f.Keyframe || f.Position != 2*time.Second {
		t.Fatalf("resumed with key=%v at %v, want keyframe at 2s", f.Keyframe, f.Position)
	}
}

// TestPauseResumeMusic: an audio-only item pauses and resumes where it was.
func TestPauseResumeMusic(t *testing.T) {
	ch := make(chan sent, 4096)
	rec := &recorder{onCall: func(k string, f Frame) { ch <- sent{k, f} }}
	pl := NewPlayer(PlayerParams{URL: testmedia.Generate(t, testmedia.FLAC), Config: DefaultConfig(),
		Sink: rec, Timeline: NewTimeline(time.Now())})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- pl.Run(ctx) }()
	defer func() {
		cancel()
		<-errc
	}()
	waitAudio := func() Frame {
		t.Helper()
		for {
			select {
			case s := <-ch:
				if s.kind == "audio" {
					return s.f
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no audio")
			}
		}
	}
	for waitAudio().Position < 500*time.Millisecond {
	}
	pl.Pause()
	paused := waitState(t, pl, StatePaused)
	_, _, audio := rec.snapshot()
	last := audio[len(audio)-1]
	if paused.Position != last.Position+opusFrame {
		t.Fatalf("paused at %v after the packet at %v", paused.Position, last.Position)
	}
	for len(ch) > 0 {
		<-ch
	}
	pl.Resume()
	first := waitAudio()
	if d := first.Position - paused.Position; d < 0 || d > opusFrame {
		t.Fatalf("resumed at %v, paused at %v", first.Position, paused.Position)
	}
	if int32(first.Timestamp-last.Timestamp) < int32(AudioClockRate/50) {
		t.Fatal("audio RTP timestamps did not move forward across the pause")
	}
}

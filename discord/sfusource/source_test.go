package sfusource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/discord/voice"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeTrack hands out queued packets, then blocks until closed.
type fakeTrack struct {
	pkts chan *rtp.Packet
}

func (f *fakeTrack) ReadRTP() (*rtp.Packet, interceptor.Attributes, error) {
	p, ok := <-f.pkts
	if !ok {
		return nil, nil, io.EOF
	}
	return p, nil, nil
}

func next(t *testing.T, s *Source) (opus []byte, ts uint32, pause bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := s.NextFrame(ctx)
	if err != nil {
		t.Fatalf("NextFrame: %v", err)
	}
	return f.Opus, f.Timestamp, f.Pause
}

func TestForwardsOpusUnchangedAndPausesOnPlayback(t *testing.T) {
	s := newSource(slog.New(slog.DiscardHandler))
	tr := &fakeTrack{pkts: make(chan *rtp.Packet, 16)}
	s.readTrack(tr)
	frames := [][]byte{{0xFC, 1, 2, 3}, {0xFC, 4, 5}, {}, {0xFC, 6}}
	for i, p := range frames {
		tr.pkts <- &rtp.Packet{Header: rtp.Header{Timestamp: uint32(1000 + 960*i), SequenceNumber: uint16(i)}, Payload: p}
	}
	for _, want := range []struct {
		opus []byte
		ts   uint32
	}{{frames[0], 1000}, {frames[1], 1960}, {frames[3], 3880}} { // the empty (padding) packet is skipped
		opus, ts, pause := next(t, s)
		if pause || !bytes.Equal(opus, want.opus) || ts != want.ts {
			t.Fatalf("frame = % x ts %d pause %v, want % x ts %d", opus, ts, pause, want.opus, want.ts)
		}
	}

	for _, tc := range []struct {
		msg       string
		wantPause bool
	}{
		{`{"type":"playback","state":"playing"}`, false},
		{`{"type":"playback","state":"paused"}`, true},
		{`{"type":"playback","state":"paused"}`, false}, // still paused: one marker only
		{`{"type":"playback","state":"stopped"}`, false},
		{`not json`, false},
		{`{"type":"chat","state":"paused"}`, false},
	} {
		s.playback([]byte(tc.msg))
		got := len(s.frames) == 1
		if got != tc.wantPause {
			t.Fatalf("after %s: marker queued = %v, want %v", tc.msg, got, tc.wantPause)
		}
		if got {
			if _, _, pause := next(t, s); !pause {
				t.Fatal("queued frame is not a pause marker")
			}
		}
	}
	// Audio after a pause clears it: the next pause marks again.
	tr.pkts <- &rtp.Packet{Header: rtp.Header{Timestamp: 5000}, Payload: []byte{0xFC, 9}}
	if opus, _, _ := next(t, s); !bytes.Equal(opus, []byte{0xFC, 9}) {
		t.Fatalf("frame after resume = % x", opus)
	}
	s.playback([]byte(`{"type":"playback","state":"paused"}`))
	if _, _, pause := next(t, s); !pause {
		t.Fatal("no pause marker after audio resumed and paused again")
	}
	close(tr.pkts)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextFrame(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("NextFrame after Close = %v", err)
	}
}

func TestFullQueueDropsOldest(t *testing.T) {
	s := newSource(slog.New(slog.DiscardHandler))
	defer s.Close()
	for i := range frameQueue + 10 {
		s.push(framed(i))
	}
	_, ts, _ := next(t, s)
	if ts != 10 || s.drops != 10 {
		t.Fatalf("first ts = %d, drops = %d; want 10 and 10", ts, s.drops)
	}
}

// TestIsIngest: only the ingest identity with a publish grant is the
// ingest; a role attribute, which a participant may claim, counts for
// nothing (issue #13.1).
func TestIsIngest(t *testing.T) {
	pub := &livekit.ParticipantPermission{CanPublish: true, CanSubscribe: true}
	listener := &livekit.ParticipantPermission{CanSubscribe: true, CanPublishData: true}
	for _, tc := range []struct {
		name     string
		identity string
		perm     *livekit.ParticipantPermission
		want     bool
	}{
		{"ingest", "ingest-abc", pub, true},
		{"ingest identity without publish grant", "ingest-abc", listener, false},
		{"person with publish grant", "user-7", pub, false},
		{"listener", "user-7", listener, false},
		{"unknown sender", "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isIngest(tc.identity, tc.perm); got != tc.want {
				t.Errorf("isIngest = %v", got)
			}
		})
	}
}

// TestPlaybackOnlyFromIngest: a paused report from anyone but the ingest
// queues no pause marker; the ingest's does.
func TestPlaybackOnlyFromIngest(t *testing.T) {
	s := newSource(slog.New(slog.DiscardHandler))
	defer s.Close()
	paused := []byte(`{"type":"playback","state":"paused","sentAtMs":9000000000000000}`)
	s.onData("marquee.playback", paused, "user-2", &livekit.ParticipantPermission{CanPublishData: true})
	s.onData("marquee.playback", paused, "", nil)
	if len(s.frames) != 0 {
		t.Fatalf("a listener's report queued %d frames", len(s.frames))
	}
	s.onData("marquee.chat", paused, "ingest-s1", &livekit.ParticipantPermission{CanPublish: true})
	if len(s.frames) != 0 {
		t.Fatalf("a report on another topic queued %d frames", len(s.frames))
	}
	s.onData("marquee.playback", paused, "ingest-s1", &livekit.ParticipantPermission{CanPublish: true})
	if _, _, pause := next(t, s); !pause {
		t.Fatal("the ingest's pause queued no marker")
	}
}

func TestTokenIsHiddenSubscribeOnly(t *testing.T) {
	s, err := New(Config{URL: "ws://127.0.0.1:7880", APIKey: "devkey", APISecret: "secret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.token("room-1", "discord-1")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.ParseAPIToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	grants, err := v.Verify("secret")
	if err != nil {
		t.Fatal(err)
	}
	g := grants.Video
	if !g.Hidden || !g.RoomJoin || g.Room != "room-1" || g.GetCanPublish() || g.GetCanPublishData() || !g.GetCanSubscribe() {
		t.Errorf("grant = %+v", g)
	}
	if _, err := New(Config{URL: "ws://x"}, nil); err == nil {
		t.Error("New accepted a config without keys")
	}
}

func framed(i int) voice.Frame { return voice.Frame{Opus: []byte{0xFC}, Timestamp: uint32(i)} }

func TestEndBeforeCloseFailsNextFrame(t *testing.T) {
	s := newSource(slog.New(slog.DiscardHandler))
	left := 0
	s.disconnect = func() { left++ }
	s.end() // the SFU dropped us
	if _, err := s.NextFrame(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("NextFrame after end = %v", err)
	}
	s.readTrack(&fakeTrack{pkts: make(chan *rtp.Packet)}) // late subscription: ignored
	_ = s.Close()
	_ = s.Close()
	if left != 1 {
		t.Errorf("disconnect called %d times, want 1", left)
	}
}

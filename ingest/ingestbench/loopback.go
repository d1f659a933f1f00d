package ingestbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/marquee-party/marquee/ingest"
	"github.com/marquee-party/marquee/media"
	"github.com/marquee-party/marquee/rooms"
)

const (
	benchKey    = "devkey"
	benchSecret = "bench-secret"
)

// timingRoom records when each video RTP timestamp left the ingest, and
// when the first frame after a seek did.
type timingRoom struct {
	ingest.Room
	mu         sync.Mutex
	sentAt     map[uint32]time.Time
	encodedAt  map[uint32]time.Time // encode start per timestamp
	seekTarget time.Duration
	seekArmed  bool
	seekSent   time.Time
	seekTS     uint32
}

func (r *timingRoom) WriteVideo(f media.Frame) error {
	now := time.Now()
	r.mu.Lock()
	if _, ok := r.sentAt[f.Timestamp]; !ok {
		r.sentAt[f.Timestamp] = now
		r.encodedAt[f.Timestamp] = f.EncodeStart
	}
	if r.seekArmed && f.Keyframe && f.Position >= r.seekTarget-time.Millisecond {
		r.seekArmed, r.seekSent, r.seekTS = false, now, f.Timestamp
	}
	r.mu.Unlock()
	return r.Room.WriteVideo(f)
}

func (r *timingRoom) armSeek(target time.Duration) {
	r.mu.Lock()
	r.seekTarget, r.seekArmed = target, true
	r.mu.Unlock()
}

func (r *timingRoom) seekResult() (time.Time, uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seekSent, r.seekTS, !r.seekArmed
}

func (r *timingRoom) sent() map[uint32]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.sentAt)
}

func (r *timingRoom) encoded() map[uint32]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.encodedAt)
}

// timingConnector wraps the LiveKit connector's rooms in timingRooms.
type timingConnector struct {
	inner ingest.Connector
	mu    sync.Mutex
	last  *timingRoom
}

func (c *timingConnector) Join(ctx context.Context, p ingest.JoinParams) (ingest.Room, error) {
	r, err := c.inner.Join(ctx, p)
	if err != nil {
		return nil, err
	}
	tr := &timingRoom{Room: r, sentAt: map[uint32]time.Time{}, encodedAt: map[uint32]time.Time{}}
	c.mu.Lock()
	c.last = tr
	c.mu.Unlock()
	return tr, nil
}

func (c *timingConnector) room() *timingRoom {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// loopback is the SFU and an ingest worker in this process.
type loopback struct {
	sfu  *rooms.Server
	ts   *httptest.Server
	url  string
	conn *timingConnector
	srv  *ingest.Server
}

func startLoopback(src string, cfg media.Config) (*loopback, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	rc := rooms.DefaultConfig()
	rc.ApplyDev()
	rc.Keys = map[string]string{benchKey: benchSecret}
	rc.RTC.UDPPort = 0
	rc.TURN.UDPPort = 0
	sfu, err := rooms.NewServer(rooms.Params{Config: rc, Logger: quiet})
	if err != nil {
		return nil, err
	}
	l := &loopback{sfu: sfu, ts: httptest.NewServer(sfu)}
	l.url = "ws" + strings.TrimPrefix(l.ts.URL, "http")
	l.conn = &timingConnector{inner: &ingest.LiveKitConnector{URL: l.url, APIKey: benchKey, APISecret: benchSecret, Logger: quiet}}
	ic := ingest.DefaultConfig()
	ic.Secret = "bench-worker-secret"
	ic.MediaRoots = []string{filepath.Dir(src)}
	ic.Media = cfg
	if l.srv, err = ingest.New(ingest.Params{Config: ic, Connector: l.conn, Logger: quiet}); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *loopback) close() {
	if l.srv != nil {
		l.srv.Close()
	}
	l.ts.CloseClientConnections()
	_ = l.sfu.Close()
	l.ts.Close()
}

// loopbackResult is one run through the SFU.
type loopbackResult struct {
	glass      []time.Duration // sent → decoded by the viewer, per frame
	fromEncode []time.Duration // encode start → decoded by the viewer
	join       time.Duration   // viewer connect → first decoded frame
	seekSent   []time.Duration // seek call → first frame at the target sent
	seekViewer []time.Duration // seek call → that frame decoded by the viewer
}

func waitFor(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

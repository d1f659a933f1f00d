package rooms_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/marquee-party/marquee/rooms"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	testKey    = "devkey"
	testSecret = "secret-for-tests"
)

// sfu is a Server on loopback for one test.
type sfu struct {
	srv *rooms.Server
	ts  *httptest.Server
	reg *prometheus.Registry
	url string // ws://127.0.0.1:port
}

func startSFU(t *testing.T, mutate ...func(*rooms.Config)) *sfu {
	t.Helper()
	cfg := rooms.DefaultConfig()
	cfg.ApplyDev()
	cfg.Keys = map[string]string{testKey: testSecret}
	cfg.RTC.UDPPort = 0
	cfg.TURN.UDPPort = 0
	cfg.ReconnectGrace = 5 * time.Second
	for _, m := range mutate {
		m(&cfg)
	}
	reg := prometheus.NewRegistry()
	level := slog.LevelWarn
	if os.Getenv("SFU_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := rooms.NewServer(rooms.Params{Config: cfg, Logger: log, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	s := &sfu{srv: srv, ts: ts, reg: reg, url: "ws" + strings.TrimPrefix(ts.URL, "http")}
	t.Cleanup(func() {
		ts.CloseClientConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		ts.Close()
	})
	return s
}

// token mints a LiveKit access token for identity with grant.
func token(t *testing.T, identity string, grant *auth.VideoGrant) string {
	t.Helper()
	at := auth.NewAccessToken(testKey, testSecret).SetIdentity(identity).SetName(identity).
		SetVideoGrant(grant).SetValidFor(time.Hour)
	tok, err := at.ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ptr[T any](v T) *T { return &v }

// counter reads a counter (summed over labels matching lv) from reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

// eventually polls cond until it holds or ctx ends; it is not a timing
// assertion, only a bound on how long a hung test waits.
func eventually(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// vp8Clip encodes a short VP8 IVF test clip with the ffmpeg CLI.
// It is encoded once per test binary and shared (readers only read it).
func vp8Clip(t *testing.T) string {
	t.Helper()
	sharedClipOnce.Do(func() { sharedClip, sharedClipErr = encodeVP8(clipDir, 320, 180, 30, 20) })
	if sharedClipErr != nil {
		t.Fatal(sharedClipErr)
	}
	return sharedClip
}

// encodeVP8 encodes a w×h VP8 IVF clip of secs seconds into dir with a
// key frame every half second; it is safe off the test goroutine.
func encodeVP8(dir string, w, h, fps, secs int) (string, error) {
	out := filepath.Join(dir, fmt.Sprintf("clip-%dx%d.ivf", w, h))
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc=size=%dx%d:rate=%d", w, h, fps), "-t", fmt.Sprint(secs), "-c:v", "libvpx",
		"-deadline", "realtime", "-cpu-used", "8", "-g", fmt.Sprint(fps/2), "-b:v", fmt.Sprintf("%dk", w/2), "-y", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ffmpeg: %w: %s", err, b)
	}
	return out, nil
}

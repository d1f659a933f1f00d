// Package roomstest runs Marquee's real SFU (package rooms) in-process for
// other packages' tests: dev networking on loopback, an ephemeral UDP port,
// a known key pair, and clean-up when the test ends. It is a real SFU, not
// a fake: clients speak LiveKit's protocol to it over WebSocket and WebRTC.
package roomstest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marquee-party/marquee/rooms"
)

// Key and Secret are the API key pair the SFU accepts.
const (
	Key    = "devkey"
	Secret = "secret-for-tests"
)

// Options adjust the SFU; the zero value is a quiet SFU.
type Options struct {
	// Logger receives the SFU's logs; discarded when nil.
	Logger *slog.Logger
	// Registerer receives its metrics, for tests that read counters.
	Registerer prometheus.Registerer
}

// Server is a running SFU.
type Server struct {
	// URL is the signalling URL (ws://127.0.0.1:port); RoomService is at
	// the same host over http.
	URL string
	// HTTPURL is the same address as http://, for RoomService clients.
	HTTPURL string
}

// Start runs an SFU for the rest of the test.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := rooms.DefaultConfig()
	cfg.ApplyDev()
	cfg.Keys = map[string]string{Key: Secret}
	cfg.RTC.UDPPort = 0
	cfg.TURN.UDPPort = 0
	srv, err := rooms.NewServer(rooms.Params{Config: cfg, Logger: o.Logger, Registerer: o.Registerer})
	if err != nil {
		t.Fatalf("roomstest: start SFU: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		_ = srv.Close()
		ts.Close()
	})
	return &Server{URL: "ws" + strings.TrimPrefix(ts.URL, "http"), HTTPURL: ts.URL}
}

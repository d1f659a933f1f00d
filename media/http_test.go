package media

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

func TestHTTPSources(t *testing.T) {
	data, err := os.ReadFile(testmedia.Generate(t, testmedia.H264AAC))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok.mp4", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "ok.mp4", time.Time{}, bytesReader(data))
	})
	mux.HandleFunc("/drop.mp4", func(w http.ResponseWriter, r *http.Request) {
		// Promise the whole file, send 40%, then cut the connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data[:len(data)*4/10])
		w.(http.Flusher).Flush()
		if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = c.Close()
		}
	})
	mux.HandleFunc("/stall.mp4", func(w http.ResponseWriter, r *http.Request) {
		// Send 40%, then say nothing until the client gives up.
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data[:len(data)*4/10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := DefaultConfig()
	cfg.Unpaced = true
	cfg.IOTimeout = time.Second
	tests := []struct {
		path string
		want error
	}{
		{"/ok.mp4", nil},
		{"/missing.mp4", ErrOpen},
		{"/drop.mp4", ErrRead},
		{"/stall.mp4", ErrRead},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			pl := NewPlayer(PlayerParams{URL: srv.URL + tt.path, Config: cfg, Sink: &recorder{}, Timeline: NewTimeline(time.Now())})
			err := pl.Run(ctx)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if ctx.Err() != nil {
				t.Fatal("hung until the test deadline")
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		// Cancelling the context interrupts a stalled read at once.
		c := cfg
		c.IOTimeout = time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		pl := NewPlayer(PlayerParams{URL: srv.URL + "/stall.mp4", Config: c, Sink: &recorder{}, Timeline: NewTimeline(time.Now())})
		go func() { time.Sleep(500 * time.Millisecond); cancel() }()
		done := make(chan error, 1)
		go func() { done <- pl.Run(ctx) }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("no error after cancel")
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

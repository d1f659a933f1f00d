package lifecycle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServeListenerDrainsOnCancel(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inflight := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inflight)
		time.Sleep(100 * time.Millisecond) // a request still running at shutdown
		_, _ = w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeListener(log, "test", ln, h)(ctx) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-inflight
	cancel()
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request got %q, want it drained to completion", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("ServeListener returned %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestRunStopsAllPartsOnFirstError(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	boom := errors.New("boom")
	stopped := make(chan struct{})
	err := Run(context.Background(), log, func(int) { t.Error("exit called") },
		func(ctx context.Context) error { return boom },
		func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil },
	)
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("the other part was not stopped")
	}
}

// TestRunSignals drives the signal path: the first signal drains every
// part and Run returns nil; a second one during a hung drain exits 2.
func TestRunSignals(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("first signal drains", func(t *testing.T) {
		sigs := make(chan os.Signal, 1)
		drained := make(chan struct{})
		sigs <- syscall.SIGINT
		err := run(context.Background(), log, func(int) { t.Error("exit called on a clean stop") }, sigs, []Part{
			func(ctx context.Context) error { <-ctx.Done(); close(drained); return nil },
			func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
		})
		if err != nil {
			t.Fatalf("run = %v, want nil after a clean drain", err)
		}
		select {
		case <-drained:
		default:
			t.Fatal("the part did not drain")
		}
	})
	t.Run("second signal exits", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		release := make(chan struct{})
		defer close(release)
		var codes []int
		sigs <- syscall.SIGTERM
		sigs <- syscall.SIGINT
		err := run(context.Background(), log, func(c int) { codes = append(codes, c) }, sigs, []Part{
			func(ctx context.Context) error { <-ctx.Done(); <-release; return nil }, // a hung drain
		})
		if !errors.Is(err, ErrForced) || len(codes) != 1 || codes[0] != 2 {
			t.Fatalf("run = %v, exit codes %v; want ErrForced and one exit(2)", err, codes)
		}
	})
}

func TestServeHTTPNamesBusyPort(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = ServeHTTP(log, "api", ln.Addr().String(), http.NotFoundHandler())(context.Background())
	if err == nil {
		t.Fatal("listening on a busy port succeeded")
	}
	if want := ln.Addr().String(); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %s", err, want)
	}
}

// Package lifecycle runs a service's parts until a signal arrives, then
// shuts them down in order. The first SIGINT or SIGTERM cancels the context
// and lets every part drain; a second one exits at once.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
)

// DrainTimeout bounds how long HTTP servers wait for requests in flight.
const DrainTimeout = 10 * time.Second

// Part is one long-running piece of a service. It returns when ctx is
// cancelled (nil) or when it fails (an error, which stops the others).
type Part func(ctx context.Context) error

// Run runs the parts in an errgroup until one fails or SIGINT or SIGTERM
// arrives. The first signal cancels the parts' context and lets every part
// drain; a second one calls exit(2), so a hung drain never traps the
// operator. Run catches the signals only while it runs: once it returns, a
// signal has its default effect again, so a hung close after Run can still
// be interrupted. It returns the first part's error, if any.
func Run(ctx context.Context, log *slog.Logger, exit func(int), parts ...Part) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	return run(ctx, log, exit, sigs, parts)
}

// run is Run with the signals coming from sigs.
func run(ctx context.Context, log *slog.Logger, exit func(int), sigs <-chan os.Signal, parts []Part) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		g.Go(func() error { return p(gctx) })
	}
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	draining := false
	for {
		select {
		case err := <-waited:
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		case sig := <-sigs:
			if !draining {
				draining = true
				log.Info("stopping: draining", "signal", sig.String())
				cancel()
				continue
			}
			log.Warn("second signal: exiting without draining", "signal", sig.String())
			exit(2)
			return ErrForced
		}
	}
}

// ErrForced is what Run returns when a second signal cut the drain short
// and exit returned (tests pass an exit that does).
var ErrForced = errors.New("lifecycle: second signal, stopped without draining")

// ServeHTTP returns a Part that serves h on addr and drains on cancel.
func ServeHTTP(log *slog.Logger, name, addr string, h http.Handler) Part {
	return func(ctx context.Context) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s: listen on %s: %w (is another process using the port? set a different address)", name, addr, err)
		}
		return ServeListener(log, name, ln, h)(ctx)
	}
}

// ServeListener is ServeHTTP on a listener the caller already opened, which
// lets tests bind port 0 and read the address back.
func ServeListener(log *slog.Logger, name string, ln net.Listener, h http.Handler) Part {
	return func(ctx context.Context) error {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
			BaseContext: func(net.Listener) context.Context { return ctx }}
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		log.Info("listening", "server", name, "addr", ln.Addr().String())
		select {
		case err := <-errc:
			return fmt.Errorf("%s: %w", name, err)
		case <-ctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		<-errc
		log.Info("stopped", "server", name)
		return err
	}
}

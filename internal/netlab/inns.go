package netlab

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs f on an OS thread switched into h's network namespace, then
// switches the thread back (or, if that fails, lets it die with its
// goroutine). Sockets f creates stay in h's namespace for their lifetime,
// so a listener or a connection made in f serves the rest of the process.
func (h *Host) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("netlab: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + h.NS)
		if err != nil {
			errc <- fmt.Errorf("netlab: %w", err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netlab: setns %s: %w", h.NS, err)
			return
		}
		ferr := f()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the locked thread exits with this goroutine
		errc <- ferr
	}()
	return <-errc
}

// Listen opens a listener in h's namespace, e.g. Listen("tcp", h.IP+":8080").
func (h *Host) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := h.Do(func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// DialContext connects from h's namespace to an address (an IP, not a
// name: resolving would run outside the namespace); use it as an
// http.Transport's DialContext for a client that lives on h.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := h.Do(func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

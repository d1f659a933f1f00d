package cdn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultOriginIdleTimeout is how long a fill may wait for the origin's
// next body bytes before the node gives up on it (cdn.origin_idle_timeout).
const DefaultOriginIdleTimeout = 15 * time.Second

// errOriginIdle ends a fetch whose origin sent headers, then nothing for
// the idle timeout.
var errOriginIdle = errors.New("cdn: origin sent no body bytes for the idle timeout")

// idleBody is an origin response body that cancels its request when no
// bytes arrive for the idle timeout, so a stalling origin cannot hold a
// viewer (and everyone waiting on its fill) at 0 bytes indefinitely. The
// dial and response-header timeouts of the client cover the wait before
// the body; this covers the body itself.
type idleBody struct {
	io.ReadCloser
	idle   time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer

	mu      sync.Mutex
	expired bool
}

// withIdleTimeout wraps body so that cancel(errOriginIdle) runs when a Read
// waits longer than idle. cancel must cancel the request body belongs to.
func withIdleTimeout(body io.ReadCloser, idle time.Duration, cancel context.CancelCauseFunc) *idleBody {
	b := &idleBody{ReadCloser: body, idle: idle, cancel: cancel}
	b.timer = time.AfterFunc(idle, b.expire)
	return b
}

func (b *idleBody) expire() {
	b.mu.Lock()
	b.expired = true
	b.mu.Unlock()
	b.cancel(errOriginIdle)
}

// Read reads from the origin, restarting the idle clock on every chunk; a
// read cut short by the idle timeout returns an error wrapping
// errOriginIdle.
func (b *idleBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	if k > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		b.mu.Lock()
		expired := b.expired
		b.mu.Unlock()
		if expired {
			return k, fmt.Errorf("%w (%s): %v", errOriginIdle, b.idle, err)
		}
	}
	return k, err
}

// Close stops the idle clock, closes the body and releases the request.
func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(context.Canceled)
	return err
}

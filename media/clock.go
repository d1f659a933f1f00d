package media

import "time"

// Clock is the time source a Player paces against. The real one reads the
// monotonic clock; tests substitute a fake that they advance by hand.
type Clock interface {
	// Now returns the current instant (with a monotonic reading).
	Now() time.Time
	// After fires once d has elapsed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real Clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

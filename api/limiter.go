package api

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// JoinsPerWindow caps the guest accounts one address may create through
// invites within LoginWindow, so a leaked invite cannot flood the database.
const JoinsPerWindow = 20

// attemptLimiter counts events per key within LoginWindow: guest accounts
// made per address (JoinsPerWindow) and failed sign-ins per address
// (AddrFailures, see loginThrottle).
type attemptLimiter struct {
	now   func() time.Time
	limit int
	mu    sync.Mutex
	// fails maps a key to the times of its recent failures.
	fails map[string][]time.Time
}

func newAttemptLimiter(now func() time.Time, limit int) *attemptLimiter {
	return &attemptLimiter{now: now, limit: limit, fails: map[string][]time.Time{}}
}

func limiterKey(r *http.Request, username string) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return strings.ToLower(username) + "\x00" + host
}

// recent drops failures older than the window and returns the rest.
func (l *attemptLimiter) recent(key string) []time.Time {
	cut := l.now().Add(-LoginWindow)
	f := l.fails[key]
	i := 0
	for i < len(f) && f[i].Before(cut) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = f
	return f
}

// allow reports whether another attempt may be made for key.
func (l *attemptLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key)) < l.limit
}

// fail records an event for key.
func (l *attemptLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[key] = append(l.recent(key), l.now())
	if len(l.fails) > 100_000 { // bound memory under a spray of keys
		for k := range l.fails {
			delete(l.fails, k)
			break
		}
	}
}

var errTooManyJoins = apiErr(http.StatusTooManyRequests, "too_many_joins",
	"too many guest accounts created from this address; wait a few minutes")

package api

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling. Each guess already costs ~0.1-0.2 s of argon2id; the
// throttle caps online guessing without letting a stranger lock anyone
// out:
//
//   - per account: after LoginFailures failures in a row, each further
//     attempt waits LoginBaseDelay, doubling with every failure up to
//     LoginMaxDelay; a success, or LoginWindow without failures, resets it;
//   - per client address, across accounts: at most AddrFailures failures
//     within LoginWindow, so one address cannot spray guesses over many
//     accounts.
//
// The client address is the connection's, or, from a proxy listed in
// Params.TrustedProxies, the nearest untrusted X-Forwarded-For entry.
const (
	LoginFailures  = 5
	LoginBaseDelay = 2 * time.Second
	LoginMaxDelay  = 2 * time.Minute
	LoginWindow    = 10 * time.Minute
	AddrFailures   = 30
)

// maxThrottleKeys bounds the throttle's memory under a spray of names.
const maxThrottleKeys = 100_000

type accountFails struct {
	n    int       // failures in a row
	last time.Time // the latest
}

// loginThrottle implements the rules above. Its methods are safe for
// concurrent use; user "" (login links, whose secrets cannot be guessed
// per account) is limited per address only.
type loginThrottle struct {
	now func() time.Time

	mu       sync.Mutex
	accounts map[string]accountFails
	addrs    *attemptLimiter
}

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, accounts: map[string]accountFails{}, addrs: newAttemptLimiter(now, AddrFailures)}
}

// delay is how long after its latest failure an account with n failures
// in a row must wait before the next attempt.
func delay(n int) time.Duration {
	if n < LoginFailures {
		return 0
	}
	shift := min(n-LoginFailures, 30)
	d := time.Duration(float64(LoginBaseDelay) * math.Pow(2, float64(shift)))
	return min(d, LoginMaxDelay)
}

// Allow returns nil when an attempt for user from addr may go ahead now,
// or a 429 error saying how long to wait.
func (t *loginThrottle) Allow(user, addr string) error {
	if !t.addrs.allow(addr) {
		return tooManyAttempts(LoginWindow)
	}
	if user == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.current(strings.ToLower(user))
	if !ok {
		return nil
	}
	if wait := a.last.Add(delay(a.n)).Sub(t.now()); wait > 0 {
		return tooManyAttempts(wait)
	}
	return nil
}

// Fail records a wrong password (or link secret) for user from addr.
func (t *loginThrottle) Fail(user, addr string) {
	t.addrs.fail(addr)
	if user == "" {
		return
	}
	key := strings.ToLower(user)
	t.mu.Lock()
	defer t.mu.Unlock()
	a, _ := t.current(key)
	t.accounts[key] = accountFails{n: a.n + 1, last: t.now()}
	if len(t.accounts) > maxThrottleKeys {
		for k := range t.accounts {
			delete(t.accounts, k)
			break
		}
	}
}

// Succeed clears user's failures; the address keeps its count.
func (t *loginThrottle) Succeed(user, _ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, strings.ToLower(user))
}

// current returns key's failures, forgetting them after LoginWindow
// without a new one. t.mu is held.
func (t *loginThrottle) current(key string) (accountFails, bool) {
	a, ok := t.accounts[key]
	if ok && t.now().Sub(a.last) > LoginWindow {
		delete(t.accounts, key)
		return accountFails{}, false
	}
	return a, ok
}

func tooManyAttempts(wait time.Duration) *Error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return apiErr(http.StatusTooManyRequests, "too_many_attempts",
		fmt.Sprintf("too many failed sign-in attempts; try again in %d s", secs))
}

// ParseTrustedProxies parses a list of CIDR prefixes (or bare addresses)
// for Params.TrustedProxies, naming the first bad entry.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8 or an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// clientAddr is the address of the client behind r: the connection's
// peer, unless that peer is a trusted proxy, in which case the nearest
// X-Forwarded-For entry that is not itself a trusted proxy. A client can
// put anything in X-Forwarded-For, so the header is never believed from
// anyone else.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(s.p.TrustedProxies) == 0 || !s.trusted(host) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(hop)
		if err != nil {
			return host // a malformed chain: fall back to the proxy itself
		}
		if !s.trusted(hop) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *Server) trusted(host string) bool {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.p.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// withClientAddr returns r with RemoteAddr set to the client's address
// (see clientAddr), so every handler and limiter sees the same client.
func (s *Server) withClientAddr(r *http.Request) *http.Request {
	if len(s.p.TrustedProxies) == 0 {
		return r
	}
	addr := s.clientAddr(r)
	r = r.WithContext(r.Context())
	r.RemoteAddr = net.JoinHostPort(addr, "0")
	return r
}

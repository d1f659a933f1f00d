package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
)

func TestLoginThrottleBackoff(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	th := newLoginThrottle(func() time.Time { return now })
	const a, b = "192.0.2.1", "192.0.2.2"
	for range LoginFailures {
		if err := th.Allow("vic", a); err != nil {
			t.Fatalf("before %d failures: %v", LoginFailures, err)
		}
		th.Fail("vic", a)
	}
	// The account waits, from any address, but only LoginBaseDelay.
	if th.Allow("VIC", b) == nil {
		t.Fatal("no delay after LoginFailures failures")
	}
	now = now.Add(LoginBaseDelay)
	if err := th.Allow("vic", b); err != nil {
		t.Fatalf("after the first delay: %v", err)
	}
	// Each further failure doubles the delay.
	th.Fail("vic", b)
	now = now.Add(LoginBaseDelay)
	if th.Allow("vic", a) == nil {
		t.Fatal("the delay did not double")
	}
	now = now.Add(LoginBaseDelay)
	if err := th.Allow("vic", a); err != nil {
		t.Fatalf("after the doubled delay: %v", err)
	}
	// ... up to LoginMaxDelay, never a long lock.
	for range 20 {
		th.Fail("vic", fmt.Sprint("198.51.100.", now.Unix()%250))
		now = now.Add(time.Second)
	}
	now = now.Add(LoginMaxDelay)
	if err := th.Allow("vic", a); err != nil {
		t.Fatalf("after LoginMaxDelay: %v", err)
	}
	// Success clears the account.
	th.Fail("vic", a)
	th.Succeed("vic", a)
	if err := th.Allow("vic", a); err != nil {
		t.Fatalf("after success: %v", err)
	}
	// Other accounts were never touched.
	if err := th.Allow("ann", a); err != nil {
		t.Fatalf("another account: %v", err)
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	th := newLoginThrottle(func() time.Time { return now })
	const a, b = "192.0.2.1", "192.0.2.2"
	for i := range AddrFailures {
		if err := th.Allow(fmt.Sprint("user", i), a); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		th.Fail(fmt.Sprint("user", i), a)
	}
	if th.Allow("fresh", a) == nil || th.Allow("", a) == nil {
		t.Fatal("one address sprayed guesses over many accounts unthrottled")
	}
	if err := th.Allow("fresh", b); err != nil {
		t.Fatalf("another address: %v", err)
	}
	now = now.Add(LoginWindow + time.Second)
	if err := th.Allow("fresh", a); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"127.0.0.1/32", "10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/8", "proxy.local"}); err == nil {
		t.Error("a host name parsed as a proxy")
	}
	for _, tc := range []struct {
		proxies []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{nil, "127.0.0.1:5000", []string{"203.0.113.9"}, "127.0.0.1"},     // nobody trusted
		{trusted, "192.0.2.7:5000", []string{"203.0.113.9"}, "192.0.2.7"}, // a client forging the header
		{trusted, "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{trusted, "127.0.0.1:5000", []string{"198.51.100.1, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{trusted, "127.0.0.1:5000", []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9"},
		{trusted, "[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{trusted, "127.0.0.1:5000", []string{"junk"}, "127.0.0.1"},
		{trusted, "127.0.0.1:5000", nil, "127.0.0.1"},
	} {
		s := &Server{p: Params{TrustedProxies: tc.proxies}}
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddr(r); got != tc.want {
			t.Errorf("%s via %q = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// Behind a trusted reverse proxy, one client spraying wrong passwords
// over many accounts is stopped, and another client behind the same proxy
// still signs in; without trusted proxies the header is ignored, so
// varying it does not escape the per-address limit.
func TestLoginThrottleBehindProxy(t *testing.T) {
	for _, trust := range []bool{true, false} {
		t.Run(fmt.Sprint("trusted=", trust), func(t *testing.T) {
			o := worldOpts{}
			if trust {
				o.trustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			}
			w := newWorld(t, o)
			w.user("vic", auth.RoleMember)
			login := func(xff, user, pass string) int {
				body := fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass)
				req, _ := http.NewRequest("POST", w.http.URL+"/api/auth/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := w.browser().hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for i := range AddrFailures {
				xff := "203.0.113.1" // one client behind the proxy
				if !trust {
					xff = fmt.Sprint("203.0.113.", i+1) // a forger varying the header
				}
				if code := login(xff, fmt.Sprint("nobody", i), "guess"); code != 401 {
					t.Fatalf("guess %d: %d", i, code)
				}
			}
			if trust {
				if code := login("203.0.113.1", "nobody-else", "guess"); code != 429 {
					t.Errorf("the sprayer's next guess: %d, want 429", code)
				}
				if code := login("203.0.113.200", "vic", testPassword); code != 200 {
					t.Errorf("another client behind the proxy: %d, want 200", code)
				}
				return
			}
			if code := login("203.0.113.250", "vic", testPassword); code != 429 {
				t.Errorf("a forged X-Forwarded-For escaped the address limit: %d", code)
			}
		})
	}
}

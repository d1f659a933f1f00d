package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// netnsEnv is set, to the namespace's name, in the copy of the test binary
// that runs inside the namespace.
const netnsEnv = "MQ_E2E_NETNS"

// TestLoopbackOnlyParty runs the platform on a machine whose only
// interface is lo (a container, an offline box): a fresh network namespace.
// The host's party must reach "playing", which needs the ingest's WebRTC
// connection to the SFU; pion leaves loopback host candidates out by
// default, so the ingest (unmodified server-sdk-go) gets in only through
// the relayed candidate of the SFU's TURN relay (sfu.turn, on with --dev).
//
// It creates the namespace with ip(8), so it needs root: it is skipped
// without root except in CI (CI=true), where it fails instead.
func TestLoopbackOnlyParty(t *testing.T) {
	if ns := os.Getenv(netnsEnv); ns != "" {
		loopbackPartyInside(t, ns)
		return
	}
	needRootForNetns(t)
	if _, err := os.Stat(filepath.Join(Dir(), "..", "webapp", "dist", "index.html")); err != nil {
		t.Fatalf("the web app is not built (%v): run make test, or npm ci --prefix webapp && npm run --prefix webapp build", err)
	}
	// Build and generate outside: the namespace has no network for modules.
	bin := os.Getenv(prebuiltEnv)
	if bin == "" {
		bin = t.TempDir()
		buildBinaries(t, bin)
	}
	partyLibrary(t)

	runInLoopbackNetns(t, "mq-lo", "TestLoopbackOnlyParty", "4m", netnsEnv, prebuiltEnv+"="+bin)
}

// needRootForNetns skips a test that builds a network namespace when it
// is not root, except in CI (CI=true), where it fails instead: CI runs the
// suite as root.
func needRootForNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s creates a network namespace and needs root; CI runs the suite as root", t.Name())
		}
		t.Skip("needs root to create a network namespace (runs in CI, which is root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("ip(8) is missing (%v): install iproute2 (scripts/deps.sh does)", err)
	}
}

// runInLoopbackNetns runs test again, in a copy of this test binary inside
// a fresh network namespace whose only interface is lo, with nsEnv set to
// the namespace's name (the inner half checks it) and env added. It fails
// t unless the inner run passed, and logs the inner MEASURE lines.
func runInLoopbackNetns(t *testing.T, prefix, test, timeout, nsEnv string, env ...string) {
	t.Helper()
	ns := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%100000)
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^"+test+"$", "-test.v", "-test.timeout", timeout)
	cmd.Env = append(append(os.Environ(), nsEnv+"="+ns), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "--- PASS: "+test) {
		t.Fatalf("%s in a loopback-only namespace (%v); inside %s:\n%s", test, err, ns, tail(out.String(), 20000))
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "MEASURE") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// loopbackPartyInside is the half that runs inside the namespace: start
// the stack, sign in with the first-start link, scan, start a party on
// the sample film and wait for "playing", all over the API.
func loopbackPartyInside(t *testing.T, ns string) {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(ifs) != 1 || ifs[0].Flags&net.FlagLoopback == 0 {
		t.Fatalf("namespace %s has interfaces %v, want lo only", ns, ifs)
	}
	st, link := startStack(t)
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: st.APIURL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}

	secret := link[strings.LastIndex(link, "/login/")+len("/login/"):]
	c.do("POST", "/api/auth/link", map[string]string{"token": secret}, nil)

	var libs struct {
		Libraries []struct {
			ID   int64  `json:"id"`
			Kind string `json:"kind"`
		} `json:"libraries"`
	}
	c.do("GET", "/api/libraries", nil, &libs)
	var movies int64
	for _, l := range libs.Libraries {
		if l.Kind == "movies" {
			movies = l.ID
		}
	}
	if movies == 0 {
		t.Fatalf("no movies library: %+v", libs)
	}
	c.do("POST", fmt.Sprintf("/api/libraries/%d/scan", movies), nil, nil)
	var item int64
	scanned := waitUntil(60*time.Second, func() bool {
		var items struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		c.do("GET", "/api/items?q="+url.QueryEscape("Big Clock"), nil, &items)
		if len(items.Items) > 0 {
			item = items.Items[0].ID
		}
		return item != 0
	})
	if !scanned {
		t.Fatal("the film was not scanned within 60 s")
	}

	var p partyState
	c.do("POST", "/api/parties", map[string]any{"itemId": item}, &p)
	c.do("POST", fmt.Sprintf("/api/parties/%d/control", p.ID), map[string]any{"action": "play"}, nil)
	start := time.Now()
	playing := waitUntil(60*time.Second, func() bool {
		c.do("GET", fmt.Sprintf("/api/parties/%d", p.ID), nil, &p)
		return p.Status == "playing"
	})
	if !playing {
		t.Fatalf("party %d is %q, not playing, 60 s after play (worker %+v): the ingest did not reach the SFU over loopback", p.ID, p.Status, p.Worker)
	}
	t.Logf("MEASURE loopback-only play-to-playing: %.1f s (party %d, worker %+v)", time.Since(start).Seconds(), p.ID, p.Worker)
}

// partyState is the part of GET /api/parties/{id} this test reads.
type partyState struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Worker struct {
		Status        string `json:"status"`
		PlaybackState string `json:"playbackState"`
		LastError     string `json:"lastError"`
	} `json:"worker"`
}

// apiClient calls the API as the signed-in host.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
}

// do sends a JSON request and decodes a 2xx answer into out; anything
// else fails the test.
func (c *apiClient) do(method, path string, in, out any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		c.t.Fatalf("%s %s: status %d: %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// waitUntil polls ok every 250 ms until it holds (true) or within
// passes (false).
func waitUntil(within time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
	return true
}

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stack is the real Marquee platform for one browser test: cmd/sfu,
// cmd/ingest and cmd/api built from this tree with `go build` and started
// with --dev on free loopback ports.
type stack struct {
	APIURL  string // http://127.0.0.1:<port>
	SFUURL  string // ws://127.0.0.1:<port>
	Library string
	dir     string // data and logs
	bin     string // the binaries
	procs   []*proc
	api     *proc
}

// proc is one running binary with its log kept for failures and parsing.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.Write(b)
}

// Log returns everything the process wrote so far.
func (p *proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// buildBinaries builds the three services into dir.
func buildBinaries(t testing.TB, dir string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./cmd/api", "./cmd/sfu", "./cmd/ingest")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// prebuiltEnv names a folder of already built binaries for startStack,
// e.g. when the test runs again inside a network namespace.
const prebuiltEnv = "MQ_E2E_BIN"

// freePort asks the kernel for a free port of the network ("tcp" or "udp").
func freePort(t testing.TB, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// start runs a binary until the test ends; on failure its log is printed.
func (s *stack) start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(s.bin, name), args...)
	p.cmd.Stdout = p
	p.cmd.Stderr = p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("---- %s log (last 6000 bytes) ----\n%s", name, tail(p.Log(), 6000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// waitHTTP polls url until it answers 200 or the process exits.
func waitHTTP(t testing.TB, p *proc, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s answered:\n%s", p.name, url, tail(p.Log(), 4000))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: %s did not answer 200 within 60 s:\n%s", p.name, url, tail(p.Log(), 4000))
}

// waitLog waits for a line of the process's log matching re and returns
// the first submatch (or the whole match).
func waitLog(t testing.TB, p *proc, re *regexp.Regexp, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.Log()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				if len(m) > 1 {
					return m[1]
				}
				return m[0]
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: no log line matching %s within %v:\n%s", p.name, re, within, tail(p.Log(), 4000))
	return ""
}

func (s *stack) String() string { return fmt.Sprintf("api %s, sfu %s", s.APIURL, s.SFUURL) }

// loginLinkRe finds the first-start admin link the API prints on stdout.
var loginLinkRe = regexp.MustCompile(`(http://\S+/login/\S+)`)

// startStack builds and starts sfu, ingest and api on free loopback ports
// with --dev, serving the sample library. The API does not scan at start,
// so the test's host does. It returns once every /healthz answers.
func startStack(t testing.TB) (*stack, string) {
	t.Helper()
	return startStackWith(t, stackOptions{})
}

// stackOptions vary the stack for a test.
type stackOptions struct {
	// noIngest leaves cmd/ingest out: the API's worker URL is a port
	// nobody listens on.
	noIngest bool
	// library replaces the sample library (partyLibrary) as the media root.
	library string
}

// startStackWith is startStack with options.
func startStackWith(t testing.TB, o stackOptions) (*stack, string) {
	t.Helper()
	// cmd/api embeds webapp/dist: without a build it serves only a notice.
	if _, err := os.Stat(filepath.Join(Dir(), "..", "webapp", "dist", "index.html")); err != nil {
		t.Fatalf("the web app is not built (%v): run make test, or npm ci --prefix webapp && npm run --prefix webapp build", err)
	}
	s := &stack{dir: t.TempDir(), Library: o.library}
	if s.Library == "" {
		s.Library = partyLibrary(t)
	}
	s.bin = s.dir
	if dir := os.Getenv(prebuiltEnv); dir != "" {
		s.bin = dir
	} else {
		buildBinaries(t, s.bin)
	}
	sfuPort, udpPort, turnPort := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "udp")
	ingestPort, apiPort := freePort(t, "tcp"), freePort(t, "tcp")
	s.SFUURL = fmt.Sprintf("ws://127.0.0.1:%d", sfuPort)
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	ingestURL := fmt.Sprintf("http://127.0.0.1:%d", ingestPort)

	sfu := s.start(t, "sfu", "--dev", "--log.level", "info",
		"--listen", fmt.Sprintf("127.0.0.1:%d", sfuPort), "--sfu.rtc.udp_port", fmt.Sprint(udpPort),
		"--sfu.turn.udp_port", fmt.Sprint(turnPort))
	waitHTTP(t, sfu, fmt.Sprintf("http://127.0.0.1:%d/healthz", sfuPort))
	if !o.noIngest {
		ingest := s.start(t, "ingest", "--dev", "--log.level", "info",
			"--listen", fmt.Sprintf("127.0.0.1:%d", ingestPort), "--media.roots", s.Library, "--sfu.url", s.SFUURL)
		waitHTTP(t, ingest, ingestURL+"/healthz")
	}
	s.api = s.start(t, "api", "--dev", "--log.level", "info",
		"--listen", fmt.Sprintf("127.0.0.1:%d", apiPort), "--public_url", s.APIURL,
		"--data_dir", filepath.Join(s.dir, "data"), "--library.roots", s.Library, "--library.scan_on_start=false",
		"--sfu.url", s.SFUURL, "--worker.url", ingestURL)
	waitHTTP(t, s.api, s.APIURL+"/healthz")
	link := waitLog(t, s.api, loginLinkRe, 10*time.Second)
	t.Logf("stack up: %s", s)
	return s, link
}

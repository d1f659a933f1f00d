package netlab

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTwoHostsTalkTCP crosses a namespace: a listener in host a (nc -l in
// its namespace) receives a line a client in host b sends to a's address.
func TestTwoHostsTalkTCP(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}()
	a, err := l.Add(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Add(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if a.IP == b.IP || a.NS == b.NS {
		t.Fatalf("hosts share an address or namespace: %+v %+v", a, b)
	}
	// The test binary itself is the server and the client, run inside
	// each namespace with `ip netns exec` (TestHelperListen, TestHelperDial).
	srv := a.Command(ctx, selfPath(t), "-test.run=^TestHelperListen$")
	srv.Env = append(srv.Environ(), "NETLAB_HELPER=listen", "NETLAB_ADDR="+a.IP+":7070")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "listening") {
		t.Fatalf("helper: %q %v", line, err)
	}
	cli := b.Command(ctx, selfPath(t), "-test.run=^TestHelperDial$")
	cli.Env = append(cli.Environ(), "NETLAB_HELPER=dial", "NETLAB_ADDR="+a.IP+":7070")
	if msg, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("dial from %s to %s: %v\n%s", b.NS, a.IP, err, msg)
	}
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), "got hello from "+b.IP) {
		t.Fatalf("listener saw %q, want hello from %s", rest, b.IP)
	}
	// The host namespaces are really apart: a's address is not on loopback
	// of the test's own namespace.
	if msg, err := b.Command(ctx, "ip", "-o", "addr").CombinedOutput(); err != nil || strings.Contains(string(msg), a.IP+"/") {
		t.Fatalf("b sees a's address locally: %s %v", msg, err)
	}
}

// TestInProcessAcrossNamespaces: a listener opened in host a and a
// connection dialled from host b, both by this process; a's address is
// unreachable from the test's own namespace.
func TestInProcessAcrossNamespaces(t *testing.T) {
	ctx := context.Background()
	l, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, _ := l.Add(ctx, "a")
	b, err := l.Add(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := a.Listen("tcp", a.IP+":7071")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- strings.TrimSpace(line) + " from " + strings.Split(c.RemoteAddr().String(), ":")[0]
	}()
	c, err := b.DialContext(ctx, "tcp", a.IP+":7071")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "hi\n")
	_ = c.Close()
	if s := <-got; s != "hi from "+b.IP {
		t.Fatalf("listener got %q", s)
	}
	// The listener's address is not one of the test's own namespace.
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range addrs {
		if strings.HasPrefix(ad.String(), a.IP+"/") {
			t.Fatalf("a's address %s is local to the test's namespace", a.IP)
		}
	}
}

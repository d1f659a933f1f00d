package cdnctl

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bind9 runs Debian's named on 127.0.0.1 at a free port with the zone
// cdn.test open to TSIG-signed updates by key marquee-cdn, until the test
// ends. It returns the server address and the key's base64 secret.
func bind9(t *testing.T) (string, string) {
	t.Helper()
	named, err := exec.LookPath("named")
	if err != nil {
		named = "/usr/sbin/named"
	}
	if _, err := os.Stat(named); err != nil {
		t.Fatalf("bind9 is missing (scripts/deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := base64.StdEncoding.EncodeToString(key)
	port := freePort(t)
	conf := fmt.Sprintf(`options {
	directory "%[1]s"; pid-file "%[1]s/named.pid"; session-keyfile "%[1]s/session.key";
	listen-on port %[2]d { 127.0.0.1; }; listen-on-v6 { none; };
	recursion no; dnssec-validation no;
};
controls { };
key "marquee-cdn" { algorithm hmac-sha256; secret "%[3]s"; };
zone "cdn.test" { type primary; file "%[1]s/cdn.test.zone"; update-policy { grant marquee-cdn zonesub ANY; }; };
`, dir, port, secret)
	zone := "$TTL 60\n@ IN SOA ns.cdn.test. admin.cdn.test. 1 60 60 600 60\n@ IN NS ns.cdn.test.\nns IN A 127.0.0.1\n"
	for name, body := range map[string]string{"named.conf": conf, "cdn.test.zone": zone} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, named, "-g", "-4", "-n", "1", "-c", filepath.Join(dir, "named.conf"))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ { // wait until it serves the zone's SOA
		if strings.Contains(dig(t, addr, "cdn.test", "SOA"), "ns.cdn.test.") {
			return addr, secret
		}
		if i == 100 {
			t.Fatalf("named did not serve cdn.test:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dig asks addr for name's records of type typ with Debian's dig and
// returns the answer section.
func dig(t *testing.T, addr, name, typ string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("dig", "@"+host, "-p", port, "+tcp", "+short", "+time=2", "+tries=1", name, typ).CombinedOutput()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// TestDNSNamesInBind9: registering a node adds <name>.cdn.test to a real
// bind9 by TSIG-signed RFC 2136 update (an A record for an IP URL, a
// CNAME for a host name), renaming moves it, and revoking removes it, as
// dig sees.
func TestDNSNamesInBind9(t *testing.T) {
	addr, secret := bind9(t)
	up, err := NewDNSUpdater(DNSConfig{Server: addr, Zone: "cdn.test", KeyName: "marquee-cdn", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRegistry(t, up)
	ctx := context.Background()
	reg, err := register(t, r, testPSK, "edge1", "http://10.77.0.2:8081")
	if err != nil {
		t.Fatal(err)
	}
	if reg.DNSName != "edge1.cdn.test" {
		t.Fatalf("dns name %q", reg.DNSName)
	}
	if got := dig(t, addr, "edge1.cdn.test", "A"); got != "10.77.0.2" {
		t.Fatalf("dig edge1.cdn.test A = %q, want 10.77.0.2", got)
	}
	reg2, err := register(t, r, testPSK, "edge2", "https://node.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got := dig(t, addr, "edge2.cdn.test", "CNAME"); got != "node.example.org." {
		t.Fatalf("dig edge2.cdn.test CNAME = %q", got)
	}
	if err := r.Rename(ctx, reg2.NodeID, "paris"); err != nil {
		t.Fatal(err)
	}
	if got := dig(t, addr, "edge2.cdn.test", "CNAME"); got != "" {
		t.Fatalf("old name left after rename: %q", got)
	}
	if got := dig(t, addr, "paris.cdn.test", "CNAME"); got != "node.example.org." {
		t.Fatalf("renamed node: %q", got)
	}
	if err := r.Revoke(ctx, reg.NodeID); err != nil {
		t.Fatal(err)
	}
	if got := dig(t, addr, "edge1.cdn.test", "A"); got != "" {
		t.Fatalf("dig edge1.cdn.test A after revoke = %q, want nothing", got)
	}
	// A wrong TSIG key is refused by the server, and the node gets no name.
	bad, _ := NewDNSUpdater(DNSConfig{Server: addr, Zone: "cdn.test", KeyName: "marquee-cdn", Secret: base64.StdEncoding.EncodeToString(make([]byte, 32))})
	if err := bad.Publish(ctx, "x.cdn.test", "10.0.0.9"); err == nil {
		t.Fatal("update with a wrong TSIG key accepted")
	}
	if got := dig(t, addr, "x.cdn.test", "A"); got != "" {
		t.Fatalf("wrongly signed update applied: %q", got)
	}
}

// TestNoDNSServerNoName: with no DNS configured, a node gets no name.
func TestNoDNSServerNoName(t *testing.T) {
	reg, err := register(t, newTestRegistry(t, nil), testPSK, "edge1", "http://10.77.0.2:8081")
	if err != nil || reg.DNSName != "" {
		t.Fatalf("%+v %v", reg, err)
	}
}

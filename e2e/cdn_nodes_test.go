package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCDNNodesAdminPage: a real cmd/cdn --dev registers with a real
// cmd/api --dev by the pre-shared key (stored 0600 in its data dir); the
// admin's CDN nodes page lists it, renames it and revokes it, and the
// node's stored credential is then refused (GET /api/cdn/node: 401
// cdn_node_revoked) and a restart of the node stops with the reason.
func TestCDNNodesAdminPage(t *testing.T) {
	st, loginLink := startStackWith(t, stackOptions{noIngest: true})
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), "./cmd/cdn")
	build.Dir = filepath.Join(Dir(), "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/cdn: %v\n%s", err, out)
	}
	data := t.TempDir()
	port := freePort(t, "tcp")
	args := []string{"--dev", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--cdn.origin", st.APIURL,
		"--cdn.data_dir", data, "--cdn.cache_dir", filepath.Join(data, "cache"), "--cdn.name", "edge1",
		"--cdn.public_url", fmt.Sprintf("http://127.0.0.1:%d", port)}
	node := (&stack{bin: bin}).start(t, "cdn", args...)
	waitHTTP(t, node, fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	reg := filepath.Join(data, "cdn-registration.json")
	if fi, err := os.Stat(reg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("registration file: %v %v", fi, err)
	}

	b := StartChrome(t)
	admin := newPerson(t, b, "admin", 1280, 800)
	checkPasswordPrompt(t, admin, loginLink)
	waitFor(admin, "the header's CDN nodes link", `!!document.querySelector('a[href="/admin/cdn"]')`, 20*time.Second)
	mustEval(admin, `document.querySelector('a[href="/admin/cdn"]').click()`, nil)
	waitFor(admin, "edge1 listed up", `[...document.querySelectorAll("table.nodes tbody tr")].some(r => r.innerText.includes("edge1") && r.innerText.includes("up"))`, 20*time.Second)
	admin.Screenshot("cdn-nodes-listed")

	const row = `document.querySelector("table.nodes tbody tr")`
	mustEval(admin, `[...`+row+`.querySelectorAll("button")].find(b => b.textContent === "Rename").click()`, nil)
	waitFor(admin, "the rename field", `!!document.querySelector("table.nodes input")`, 10*time.Second)
	mustEval(admin, `(() => { const i = document.querySelector("table.nodes input"); i.value = "paris"; i.dispatchEvent(new Event("input", {bubbles: true})); })()`, nil)
	waitFor(admin, "the new name typed", `document.querySelector("table.nodes input")?.value === "paris"`, 10*time.Second)
	act(admin, "save the new name", 10*time.Second, chromedp.Click(chromedp.CSS(`table.nodes form button[type=submit]`)))
	waitFor(admin, "the node renamed", row+`?.innerText.includes("paris")`, 20*time.Second)

	mustEval(admin, `window.confirm = () => true; [...`+row+`.querySelectorAll("button")].find(b => b.textContent === "Revoke").click()`, nil)
	waitFor(admin, "the node revoked", row+`?.innerText.includes("revoked") && !`+row+`.querySelector("button")`, 20*time.Second)
	admin.Screenshot("cdn-nodes-revoked")

	// The node's stored credential is refused at once.
	raw, err := os.ReadFile(reg)
	if err != nil {
		t.Fatal(err)
	}
	cred := between(string(raw), `"credential": "`, `"`)
	var status string
	mustEval(admin, fmt.Sprintf(`fetch("/api/cdn/node", {headers: {Authorization: "Bearer %s"}}).then(async r => r.status + " " + (await r.json()).code)`, cred), &status)
	if status != "401 cdn_node_revoked" {
		t.Fatalf("revoked credential: %q", status)
	}
	// A restarting node stops with the reason.
	out, err := exec.Command(filepath.Join(bin, "cdn"), append(args[:1:1], append([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))}, args[3:]...)...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "revoked") {
		t.Fatalf("revoked node restarted: %v\n%s", err, out)
	}
}

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	v, _, _ := strings.Cut(rest, b)
	return v
}

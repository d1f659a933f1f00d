package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marquee-party/marquee/api/auth"
	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/party"
)

// childEnv makes the test binary run as a bare API server (for the crash
// test) instead of running tests.
const childEnv = "MARQUEE_API_CRASH_CHILD_DB"

// runChild serves the API on a loopback port over the database named by
// childEnv, printing "ADDR host:port" once listening, until killed.
func runChild() int {
	ctx := context.Background()
	db, err := store.Open(ctx, os.Getenv(childEnv), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	a := auth.New(db, auth.Config{})
	ps, err := party.New(party.Params{DB: db, Worker: party.NewWorkerClient("http://127.0.0.1:1", "x", nil)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv, err := New(Params{Auth: a, Parties: ps, PublicURL: "http://127.0.0.1", InviteSecret: []byte("k")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	mux := http.NewServeMux()
	srv.Mount(mux)
	_ = http.Serve(ln, mux)
	return 0
}

type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t *testing.T, dbPath string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dbPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child did not start: %v", err)
	}
	return &child{cmd: cmd, addr: strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill() // SIGKILL: no chance to flush or close anything
	_ = c.cmd.Wait()
}

// TestKillMidWriteLosesNothingAcknowledged runs the API as a separate
// process, kills it with SIGKILL during a burst of writes, restarts it on
// the same database and checks every write that got its 201 is there.
func TestKillMidWriteLosesNothingAcknowledged(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "marquee.db")
	ctx := context.Background()
	db, err := store.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := auth.New(db, auth.Config{Hash: auth.HashParams{Memory: 64, Time: 1, Threads: 1}})
	admin, err := a.CreateUser(ctx, auth.NewUser{Username: "admin", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := a.CreateToken(ctx, admin.ID, "crash-test", 0)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	c := startChild(t, dbPath)
	hc := &http.Client{Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	post := func(addr string, n int) (int64, error) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/parties", strings.NewReader(fmt.Sprintf(`{"title":"write %d"}`, n)))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		res, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		if res.StatusCode != 201 {
			return 0, fmt.Errorf("status %d", res.StatusCode)
		}
		var p party.Party
		if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
			return 0, err // the reply was cut: not acknowledged
		}
		return p.ID, nil
	}

	const killAfter = 120
	var mu sync.Mutex
	acked := map[int64]bool{}
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id, err := post(c.addr, g*100000+i)
				if err != nil {
					select {
					case <-killed:
						return
					default:
						t.Errorf("write before the kill failed: %v", err)
						return
					}
				}
				mu.Lock()
				acked[id] = true
				n := len(acked)
				mu.Unlock()
				if n >= killAfter {
					once.Do(func() { close(killed); c.kill() })
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	c = startChild(t, dbPath)
	defer c.kill()
	req, _ := http.NewRequest("GET", "http://"+c.addr+"/api/parties", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Parties []party.Party }
	err = json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, p := range list.Parties {
		have[p.ID] = true
	}
	lost := 0
	for id := range acked {
		if !have[id] {
			lost++
		}
	}
	t.Logf("acknowledged %d writes before SIGKILL, %d present after restart (%d in total)", len(acked), len(acked)-lost, len(have))
	if lost > 0 {
		t.Fatalf("%d acknowledged writes lost", lost)
	}
	// And the database is sound.
	db, err = store.OpenRaw(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
}

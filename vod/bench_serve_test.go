package vod

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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// serveChildEnv makes TestServeChild run a vod server over an existing
// cache for BenchmarkServeCached, in its own process so that its CPU time
// can be read from /proc apart from the clients'.
const serveChildEnv = "MARQUEE_VOD_BENCH_SERVE"

// Serving benchmark shape: viewers fetching cached segments at once, for
// rounds of roundTime, alternating Marquee and nginx.
const (
	benchViewers = 50
	benchRounds  = 3
	roundTime    = 3 * time.Second
)

// TestServeChild is BenchmarkServeCached's server process; it does nothing
// in a normal test run. With serveChildEnv="<source file> <cache dir>" it
// serves that file as item 1 from the cache on a loopback port, prints the
// port's URL and the 720p media playlist's URL, and runs until stdin closes.
func TestServeChild(t *testing.T) {
	src, dir, ok := strings.Cut(os.Getenv(serveChildEnv), " ")
	if !ok {
		return
	}
	bs := newBenchServer(t, src, dir)
	defer bs.close()
	media, _ := uris(string(bs.get(t, bs.h.MasterURL(1))))
	fmt.Printf("%s %s\n", bs.srv.URL, mediaURL(media, "720p"))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func mediaURL(media []string, name string) string {
	for _, m := range media {
		if strings.Contains(m, "/"+name+"/") {
			return m
		}
	}
	return ""
}

// server is one side of the comparison: a base URL, the segment paths it
// serves and the process ids whose CPU time it uses.
type server struct {
	name  string
	base  string
	paths []string
	pids  func() []int
	stop  func()
}

// BenchmarkServeCached serves the 720p segments of the 1080p bench clip,
// all cached, to benchViewers concurrent viewers, from Marquee's vod
// handler (its own process) and from Debian's nginx (sendfile on) over the
// same files, in alternating rounds, and reports each one's MB/s and CPU
// (of the serving processes, from /proc) and Marquee's ratio to nginx.
//
//	go test -run '^$' -bench ServeCached -benchtime 1x ./vod/
func BenchmarkServeCached(b *testing.B) {
	nginxBin, err := exec.LookPath("nginx")
	if err != nil {
		if nginxBin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			b.Skip("nginx is not installed, so there is nothing to compare with: install nginx-light (scripts/deps.sh does)")
		}
	}
	path := testmedia.Generate(b, testmedia.Bench1080p)
	cache := b.TempDir()
	warm(b, path, cache)
	mq := startMarquee(b, path, cache)
	defer mq.stop()
	ng := startNginx(b, nginxBin, cache, mq.paths)
	defer ng.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchViewers, DisableCompression: true}}
	res := map[string][]load{}
	for i := 0; i < benchRounds*b.N; i++ {
		for _, s := range []*server{mq, ng} {
			res[s.name] = append(res[s.name], runLoad(b, client, s))
		}
	}
	med := map[string]load{}
	for _, s := range []*server{mq, ng} {
		med[s.name] = medianLoad(res[s.name])
		m := med[s.name]
		b.Logf("%-7s %d viewers, cached 720p segments: %.0f MB/s, %.0f%% CPU, %.2f CPU-s per GB (median of %d rounds)",
			s.name, benchViewers, m.mbps, m.cpu*100, m.cpu*roundTime.Seconds()/(m.mbps*roundTime.Seconds()/1000), len(res[s.name]))
		b.ReportMetric(m.mbps, "MB/s-"+s.name)
		b.ReportMetric(m.cpu*100, "cpu%-"+s.name)
	}
	ratio := med["marquee"].mbps / med["nginx"].mbps
	b.ReportMetric(ratio, "x-nginx")
	b.Logf("marquee/nginx throughput: %.2fx (target >= 0.8x)", ratio)
}

// warm encodes every 720p segment of path into cache.
func warm(b *testing.B, path, cache string) {
	bs := newBenchServer(b, path, cache)
	defer bs.close()
	media, _ := uris(string(bs.get(b, bs.h.MasterURL(1))))
	objs, _ := uris(string(bs.get(b, mediaURL(media, "720p"))))
	for _, o := range objs {
		bs.get(b, o)
	}
}

// startMarquee runs TestServeChild in a child process over cache.
func startMarquee(b *testing.B, path, cache string) *server {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$")
	cmd.Env = append(os.Environ(), serveChildEnv+"="+path+" "+cache)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := func() { stdin.Close(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 2 || f[1] == "" {
		stop()
		b.Fatalf("vod server child: %q %v", line, err)
	}
	s := &server{name: "marquee", base: f[0], stop: stop, pids: func() []int { return []int{cmd.Process.Pid} }}
	resp, err := http.Get(f[0] + f[1])
	if err != nil {
		stop()
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	objs, _ := uris(string(body))
	s.paths = objs[1:] // the segments; init segments are a few hundred bytes
	return s
}

// startNginx serves cache's files with nginx on a free loopback port; the
// paths are Marquee's segment paths mapped to their files.
func startNginx(b *testing.B, bin, cache string, marquee []string) *server {
	dir := b.TempDir()
	port := freePort(b)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must read the test's 0700 temp dirs
	}
	conf := fmt.Sprintf(`%s
daemon off; master_process on; worker_processes auto;
pid %[2]s/nginx.pid; error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { video/iso.segment m4s; video/mp4 mp4; }
  client_body_temp_path %[2]s/t1; proxy_temp_path %[2]s/t2; fastcgi_temp_path %[2]s/t3; uwsgi_temp_path %[2]s/t4; scgi_temp_path %[2]s/t5;
  server { listen 127.0.0.1:%[3]d; root %[4]s; etag on;
    location / { add_header Cache-Control "public, max-age=31536000, immutable"; } }
}
`, user, dir, port, cache)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	s := &server{name: "nginx", base: "http://127.0.0.1:" + strconv.Itoa(port),
		stop: func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() },
		pids: func() []int { return append(childrenOf(cmd.Process.Pid), cmd.Process.Pid) }}
	for _, p := range marquee {
		s.paths = append(s.paths, "/"+cacheRel(b, cache, p))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if c, err := net.Dial("tcp", s.base[len("http://"):]); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			b.Fatalf("nginx did not start: %s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// cacheRel maps a segment URL (/api/hls/1/<src>/<rend>/<set>/<k>.m4s?…)
// to its file in the segment cache (<src>/<rend>-<set>/<k>.m4s).
func cacheRel(b *testing.B, cache, u string) string {
	p, _, _ := strings.Cut(u, "?")
	f := strings.Split(strings.TrimPrefix(p, Prefix), "/")
	if len(f) != 5 {
		b.Fatalf("segment URL %q", u)
	}
	rel := filepath.Join(f[1], f[2]+"-"+f[3], f[4])
	if _, err := os.Stat(filepath.Join(cache, rel)); err != nil {
		b.Fatal(err)
	}
	return rel
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// load is one round's throughput and the servers' CPU use (1 = one core).
type load struct{ mbps, cpu float64 }

// runLoad has benchViewers viewers fetch s's segments in turn for roundTime.
func runLoad(b *testing.B, client *http.Client, s *server) load {
	ctx, cancel := context.WithTimeout(context.Background(), roundTime)
	defer cancel()
	var bytes atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	cpu0 := cpuSeconds(s.pids())
	start := time.Now()
	for v := 0; v < benchViewers; v++ {
		wg.Add(1)
		go func(v int) {
			defer wg.Done()
			for i := v; ctx.Err() == nil; i++ {
				n, err := fetchAll(ctx, client, s.base+s.paths[i%len(s.paths)])
				bytes.Add(n)
				if err != nil && ctx.Err() == nil {
					failed.Store(err)
					return
				}
			}
		}(v)
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	return load{mbps: float64(bytes.Load()) / 1e6 / wall, cpu: (cpuSeconds(s.pids()) - cpu0) / wall}
}

func fetchAll(ctx context.Context, client *http.Client, u string) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("%s: %d", u, resp.StatusCode)
	}
	return n, err
}

// cpuSeconds sums utime and stime of pids (/proc/<pid>/stat fields 14, 15).
func cpuSeconds(pids []int) float64 {
	var ticks int64
	for _, pid := range pids {
		f := procStat(pid)
		if len(f) > 13 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return float64(ticks) / 100 // USER_HZ
}

// procStat returns the fields of /proc/<pid>/stat after the command name.
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	i := strings.LastIndexByte(string(b), ')')
	if err != nil || i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// childrenOf lists the processes whose parent is pid (nginx's workers).
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(p); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

func medianLoad(ls []load) load {
	var m, c []time.Duration
	for _, l := range ls {
		m = append(m, time.Duration(l.mbps*1e6))
		c = append(c, time.Duration(l.cpu*1e6))
	}
	return load{mbps: float64(median(m)) / 1e6, cpu: float64(median(c)) / 1e6}
}

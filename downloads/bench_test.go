package downloads

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/marquee-party/marquee/library"
)

// BenchmarkDownloads is `make bench-downloads`: the throughput of a ready
// 1 GiB file on loopback from Marquee's files handler and from Debian's
// nginx (sendfile on) serving the same file, alternating runs, and the
// time to prepare the 720p profile of a 2-minute film from a cold and
// from a warm segment cache.
//
//	go test -run '^$' -bench Downloads -benchtime 1x ./downloads/
func BenchmarkDownloads(b *testing.B) {
	r := newRig(b)
	b.Run("throughput", func(b *testing.B) { benchThroughput(b, r) })
	b.Run("prepare720p", func(b *testing.B) { benchPrepare(b, r) })
}

func benchThroughput(b *testing.B, r *rig) {
	const size = 1 << 30
	name := "big.mp4"
	path := filepath.Join(r.dir, name)
	if err := writeBig(path, size); err != nil {
		b.Fatal(err)
	}
	defer os.Remove(path)
	marquee := r.srv.URL + r.fakeReady(name, path)
	nginx, stop, err := startNginx(r.dir)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	nginx += "/" + name
	var mq, ng []float64
	for i := 0; i < 5; i++ { // alternate, so both see the same machine load
		for _, s := range []struct {
			url string
			out *[]float64
		}{{marquee, &mq}, {nginx, &ng}} {
			mbps, err := fetchRate(s.url, size)
			if err != nil {
				b.Fatal(err)
			}
			*s.out = append(*s.out, mbps)
		}
	}
	m, n := median(mq), median(ng)
	fmt.Printf("downloads: 1 GiB over loopback, median of 5 alternating runs: marquee %.0f MB/s, nginx %.0f MB/s, ratio %.2fx (target >= 0.8x)\n", m, n, m/n)
	fmt.Printf("downloads:   runs marquee %.0f, nginx %.0f\n", mq, ng)
	b.ReportMetric(m, "MB/s-marquee")
	b.ReportMetric(n, "MB/s-nginx")
	b.ReportMetric(m/n, "ratio")
}

// writeBig writes size bytes of incompressible data.
func writeBig(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	block := make([]byte, 1<<20)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(block)
	for n := int64(0); n < size; n += int64(len(block)) {
		if _, err := f.Write(block); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// fakeReady registers a device and a ready one-item job whose file is
// name in Dir, and returns its signed link.
func (r *rig) fakeReady(name, path string) string {
	r.t.Helper()
	d := r.device(member)
	size, etag, err := statETag(path)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.t.Cleanup(cancel)
	j := &job{id: newID(), deviceID: d.ID, profile: Profile720p, userID: memberID, created: time.Now(), ctx: ctx, cancel: cancel,
		items: []*jitem{{itemID: 1, title: "Big", kind: "movie", filename: "Big.mp4", state: ItemReady, size: size, file: name, etag: etag}}}
	r.svc.mu.Lock()
	r.svc.jobs[j.id] = j
	r.svc.mu.Unlock()
	return r.svc.wire(j).Items[0].URL
}

// startNginx serves dir with Debian's nginx on a free loopback port.
func startNginx(dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	prefix, err := os.MkdirTemp("", "marquee-nginx-")
	if err != nil {
		return "", nil, err
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers read the test's private temp dir
	}
	conf := user + fmt.Sprintf(`daemon off; worker_processes 1; pid %[1]s/nginx.pid; error_log %[1]s/error.log;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path %[1]s/tmp;
  proxy_temp_path %[1]s/tmp; fastcgi_temp_path %[1]s/tmp; uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
  server { listen 127.0.0.1:%[2]d; root %[3]s; } }
`, prefix, port, dir)
	if err := os.WriteFile(filepath.Join(prefix, "nginx.conf"), []byte(conf), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.Command("/usr/sbin/nginx", "-p", prefix, "-c", filepath.Join(prefix, "nginx.conf"), "-e", filepath.Join(prefix, "error.log"))
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("nginx: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(prefix)
	}
	u := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return u, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("nginx did not listen on %d", port)
}

// fetchRate downloads u and returns MB/s.
func fetchRate(u string, size int64) (float64, error) {
	start := time.Now()
	res, err := http.Get(u)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil || n != size || res.StatusCode != 200 {
		return 0, fmt.Errorf("%s: %d, %d bytes, %v", u, res.StatusCode, n, err)
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// benchPrepare times the 720p profile of a 2-minute 720p film, first from
// a cold segment cache (every segment encoded), then again from the warm
// cache (the first file removed).
func benchPrepare(b *testing.B, r *rig) {
	film := r.addFilm(benchFilm(b))
	ctx := context.Background()
	d := r.device(member)
	for _, phase := range []string{"cold", "warm"} {
		start := time.Now()
		j, err := r.svc.CreateJob(ctx, member, JobRequest{DeviceID: d.ID, Profile: Profile720p, Target: Target{Kind: TargetItem, ID: film.ID}})
		if err != nil {
			b.Fatal(err)
		}
		j = r.wait(member, j.ID)
		took := time.Since(start)
		if j.State != JobReady {
			b.Fatalf("job = %+v", j)
		}
		fmt.Printf("downloads: prepare 720p of a 2-minute 1280x720 film, %s segment cache: %.2f s (%d bytes)\n", phase, took.Seconds(), j.Items[0].Size)
		b.ReportMetric(took.Seconds(), "s-"+phase)
		if err := r.svc.DeleteJob(ctx, member, j.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFilm is a 2-minute 1280x720 30 fps H.264 + AAC film, made once
// per machine.
func benchFilm(b *testing.B) string {
	p := filepath.Join(os.TempDir(), "marquee-bench", "film-2min-720p.mp4")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := p + ".tmp.mp4"
	out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "120", "-c:v", "libx264", "-preset", "veryfast",
		"-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-movflags", "+faststart", tmp).CombinedOutput()
	if err != nil {
		b.Fatalf("ffmpeg: %v: %s", err, out)
	}
	if err := os.Rename(tmp, p); err != nil {
		b.Fatal(err)
	}
	return p
}

// addFilm scans a movies library holding only the file at src.
func (r *rig) addFilm(src string) library.Item {
	r.t.Helper()
	ctx := context.Background()
	dir := filepath.Join(filepath.Dir(r.dir), "bench-movies")
	dst := filepath.Join(dir, "Bench Film (2024)", "Bench Film (2024).mp4")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Link(src, dst); err != nil { // a symlink would lead outside the library root
		copyFile(r.t, src, dst)
	}
	lib, err := r.lib.CreateLibrary(ctx, "bench", dir, library.KindMovies)
	if err != nil {
		r.t.Fatal(err)
	}
	sc := library.NewScanner(library.ScannerParams{Service: r.lib, Workers: 1})
	defer sc.Close()
	if err := sc.Scan(ctx, lib.ID); err != nil {
		r.t.Fatal(err)
	}
	if _, err := sc.Wait(ctx, lib.ID); err != nil {
		r.t.Fatal(err)
	}
	its, err := r.lib.Items(ctx, library.Query{LibraryIDs: []int64{lib.ID}, Kinds: []library.ItemKind{library.ItemMovie}})
	if err != nil || len(its) != 1 {
		r.t.Fatalf("bench film not scanned: %v", err)
	}
	return its[0]
}

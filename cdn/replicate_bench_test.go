package cdn

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// BenchmarkReplicate replicates one object (MARQUEE_BENCH_REPL_BYTES, 1 GiB
// by default) from a peer node to a node over loopback, Range chunks,
// SHA-256 and publishing included, and beside it curl pulls the same bytes
// from the same peer URL into a file on the same disk (`make bench-cdn`).
func BenchmarkReplicate(b *testing.B) {
	size := int64(1 << 30)
	if v := os.Getenv("MARQUEE_BENCH_REPL_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("MARQUEE_BENCH_REPL_BYTES=%q: want a positive byte count", v)
		}
		size = n
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		b.Fatal("curl is needed for the comparison: apt-get install curl")
	}
	dir := b.TempDir()
	src := filepath.Join(dir, "object")
	sha := writeObject(b, src, size)
	key := "/api/downloads/9/film.mp4"
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken || r.URL.Path != key {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		f, err := os.Open(src)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "video/mp4")
		http.ServeContent(w, r, "", time.Time{}, f)
	}))
	defer origin.Close()
	signer, _ := NewSigner([]byte(testSecret))
	u, _ := url.Parse(origin.URL)
	open := func(name string) (*Node, *httptest.Server) {
		n, err := New(Params{Origin: u, OriginToken: testToken, CacheDir: filepath.Join(dir, name),
			MaxBytes: 3 * size, Signer: signer, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		return n, httptest.NewServer(n)
	}
	peer, peerSrv := open("peer")
	defer peerSrv.Close()
	defer peer.client.CloseIdleConnections()
	exp := time.Now().Add(time.Hour)
	if err := drain(peerSrv.URL + signer.Sign(key, exp)); err != nil { // the peer fills from the origin
		b.Fatal(err)
	}
	peerURL := peerSrv.URL + signer.Sign(cdnwire.PeerPrefix+key, exp)
	task := cdnwire.Task{ID: "bench", Kind: cdnwire.TaskReplicate, Objects: []cdnwire.TaskObject{{
		Key: key, Bytes: size, SHA256: sha, Sources: []string{peerURL, origin.URL + key}}}}
	b.SetBytes(size)
	b.ResetTimer()
	var repl, viaCurl, curlNull time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		node, nodeSrv := open("node" + strconv.Itoa(i))
		b.StartTimer()
		start := time.Now()
		res := node.RunTask(context.Background(), task)
		repl += time.Since(start)
		b.StopTimer()
		peerBytes, originBytes := node.ReplicatedBytes()
		nodeSrv.Close()
		node.client.CloseIdleConnections()
		if res.Error != "" || peerBytes != size || originBytes != 0 {
			b.Fatalf("replication: %q, %d bytes from the peer, %d from the origin", res.Error, peerBytes, originBytes)
		}
		out := filepath.Join(dir, "curl"+strconv.Itoa(i))
		start = time.Now()
		if msg, err := exec.Command(curl, "-sSf", "-o", out, peerURL).CombinedOutput(); err != nil {
			b.Fatalf("curl: %v: %s", err, msg)
		}
		viaCurl += time.Since(start)
		start = time.Now()
		if msg, err := exec.Command(curl, "-sSf", "-o", os.DevNull, peerURL).CombinedOutput(); err != nil {
			b.Fatalf("curl: %v: %s", err, msg)
		}
		curlNull += time.Since(start)
		_ = os.Remove(out)
		_ = os.RemoveAll(filepath.Join(dir, "node"+strconv.Itoa(i)))
		b.StartTimer()
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(repl), "repl_MB/s")
	b.ReportMetric(mbps(viaCurl), "curl_MB/s")
	b.ReportMetric(mbps(repl)/mbps(viaCurl), "ratio")
	fmt.Printf("replicate size=%d node_to_node=%.1f MB/s curl_to_file=%.1f MB/s ratio=%.2f curl_to_devnull=%.1f MB/s runs=%d (loopback)\n",
		size, mbps(repl), mbps(viaCurl), mbps(repl)/mbps(viaCurl), mbps(curlNull), b.N)
}

// writeObject writes size random-looking bytes to path and returns their SHA-256.
func writeObject(b *testing.B, path string, size int64) string {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 1<<20)
	_, _ = rand.Read(block)
	h := sha256.New()
	w := io.MultiWriter(f, h)
	for left := size; left > 0; left -= int64(len(block)) {
		if _, err := w.Write(block[:min(left, int64(len(block)))]); err != nil {
			b.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func drain(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

package library

import (
	"bytes"
	"context"
	"database/sql"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/asticode/go-astiav"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/marquee-party/marquee/internal/store"
	"github.com/marquee-party/marquee/internal/testmedia"
)

func TestMain(m *testing.M) {
	// Stub and corrupt files make libav complain on stderr; the tests check
	// the probe errors themselves.
	astiav.SetLogLevel(astiav.LogLevelFatal)
	goleak.VerifyTestMain(m)
}

// newTestService opens a real SQLite database through the store's migration
// runner and returns a Service over it.
func newTestService(t testing.TB, providers ...Provider) (*Service, *sql.DB) {
	t.Helper()
	return newTestServiceWith(t, nil, providers...)
}

func newTestServiceWith(t testing.TB, reg prometheus.Registerer, providers ...Provider) (*Service, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "marquee.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	svc, err := New(Params{DB: db, DataDir: t.TempDir(), Logger: log, Providers: providers, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return svc, db
}

// scanNow runs one scan through a Scanner and returns its final progress.
func scanNow(t testing.TB, svc *Service, libID int64) Progress {
	t.Helper()
	sc := NewScanner(ScannerParams{Service: svc, Workers: 2, Logger: svc.log})
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := sc.Scan(ctx, libID); err != nil {
		t.Fatal(err)
	}
	p, err := sc.Wait(ctx, libID)
	if err != nil {
		t.Fatal(err)
	}
	if p.State != StateDone {
		t.Fatalf("scan ended %s: %s %v", p.State, p.Error, p.Errors)
	}
	return p
}

// placeFile copies src to root/rel, creating folders.
func placeFile(t testing.TB, root, rel, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, root, rel, b)
}

func writeFile(t testing.TB, root, rel string, b []byte) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testJPEG is a small solid picture, as a poster.jpg would be.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegSize decodes a JPEG file and returns its dimensions.
func jpegSize(t testing.TB, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s is not a JPEG: %v", path, err)
	}
	return cfg.Width, cfg.Height
}

// Clips testmedia does not make, generated once per machine with ffmpeg.
const (
	clipHDR   = "hdr10-subs.mkv" // HEVC PQ video, French stereo audio, English subtitles
	clipCover = "cover.mp3"      // MP3 with tags and an attached JPEG cover
)

func clip(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "marquee-library-testmedia", "v1")
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(dir, "tmp-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	target := filepath.Join(tmp, name)
	var args []string
	switch name {
	case clipHDR:
		srt := writeFile(t, tmp, "subs.srt", []byte("1\n00:00:00,000 --> 00:00:01,500\nHello\n\n"))
		args = []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000,aformat=channel_layouts=stereo",
			"-i", srt, "-t", "2", "-map", "0:v", "-map", "1:a", "-map", "2:s",
			"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
			"-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
			"-c:a", "aac", "-c:s", "srt", "-metadata:s:a:0", "language=fre", "-metadata:s:s:0", "language=eng"}
	case clipCover:
		cover := writeFile(t, tmp, "cover.jpg", testJPEG(t, 200, 200))
		args = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-i", cover,
			"-t", "2", "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "copy",
			"-id3v2_version", "3", "-disposition:v:0", "attached_pic",
			"-metadata", "title=Tagged Song", "-metadata", "artist=Tag Artist", "-metadata", "album=Tag Album",
			"-metadata", "track=3/9", "-metadata", "date=2004"}
	default:
		t.Fatalf("unknown clip %s", name)
	}
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), target)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", name, err, b)
	}
	if err := os.Rename(target, out); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	return out
}

func media(t testing.TB, k testmedia.Kind) string { return testmedia.Generate(t, k) }

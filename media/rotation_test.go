package media

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// gray16x12 decodes the first frame of path with the ffmpeg CLI (which
// applies the display matrix) into a 12x16 8-bit gray thumbnail.
func grayThumb(t *testing.T, path string) []byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-frames:v", "1", "-vf", "scale=12:16",
		"-f", "rawvideo", "-pix_fmt", "gray", "-").Output()
	if err != nil || len(out) != 12*16 {
		t.Fatalf("ffmpeg thumbnail of %s: %v (%d bytes)", path, err, len(out))
	}
	return out
}

// writeIVF stores one VP8 frame in an IVF file (the libvpx test container).
func writeIVF(t *testing.T, frame []byte, w, h int) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("DKIF")
	_ = binary.Write(&b, binary.LittleEndian, []uint16{0, 32})
	b.WriteString("VP80")
	_ = binary.Write(&b, binary.LittleEndian, []uint16{uint16(w), uint16(h)})
	_ = binary.Write(&b, binary.LittleEndian, []uint32{30, 1, 1, 0})
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(frame)))
	_ = binary.Write(&b, binary.LittleEndian, uint64(0))
	b.Write(frame)
	p := filepath.Join(t.TempDir(), "frame.ivf")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func meanAbsDiff(a, b []byte) float64 {
	var s int
	for i := range a {
		d := int(a[i]) - int(b[i])
		s += max(d, -d)
	}
	return float64(s) / float64(len(a))
}

// TestRotation: a phone's portrait video (display matrix) comes out
// upright, matching what the ffmpeg CLI shows.
func TestRotation(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Unpaced = true
	rec, err := play(t, testmedia.Rotated, cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, video, _ := rec.snapshot()
	top := info.Layers[len(info.Layers)-1]
	if top.Width != 240 || top.Height != 320 {
		t.Fatalf("top layer %dx%d, want 240x320 (portrait)", top.Width, top.Height)
	}
	ours := grayThumb(t, writeIVF(t, video[len(video)-1][0].Data, top.Width, top.Height))
	want := grayThumb(t, testmedia.Generate(t, testmedia.Rotated))
	upsideDown := bytes.Clone(want)
	for i, j := 0, len(upsideDown)-1; i < j; i, j = i+1, j-1 {
		upsideDown[i], upsideDown[j] = upsideDown[j], upsideDown[i]
	}
	same, flipped := meanAbsDiff(ours, want), meanAbsDiff(ours, upsideDown)
	t.Logf("mean abs diff: %.1f to the CLI's picture, %.1f to it upside down", same, flipped)
	if same > 12 || same*2 > flipped {
		t.Fatalf("picture not upright: diff %.1f to the CLI's, %.1f to it turned 180°", same, flipped)
	}
}

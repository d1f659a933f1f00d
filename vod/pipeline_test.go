package vod

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/marquee-party/marquee/internal/testmedia"
)

// clip makes a short test file with the ffmpeg CLI: args go between the
// lavfi inputs and the output.
func clip(t testing.TB, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	base := []string{"-hide_banner", "-loglevel", "error", "-y"}
	cmd := exec.Command("ffmpeg", append(append(base, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return out
}

// film2397 is 9.3 s of 23.976 fps 320x240 H.264 + AAC (an odd duration).
func film2397(t testing.TB) string {
	return clip(t, "film.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24000/1001", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=44100", "-t", "9.3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "48",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2")
}

// vfrClip is 7 s of variable-frame-rate HEVC in Matroska (every 5th frame
// of 30 fps dropped, and a 1.2 s hole in the middle), without audio.
func vfrClip(t testing.TB) string {
	return clip(t, "vfr.mkv", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "7",
		"-vf", "select='not(eq(mod(n\\,5)\\,2))*not(between(t\\,3.1\\,4.3))'", "-fps_mode", "vfr",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error")
}

type probed struct {
	Frames []struct {
		MediaType string `json:"media_type"`
		KeyFrame  int    `json:"key_frame"`
		PtsTime   string `json:"pts_time"`
	} `json:"frames"`
}

// probeSegment decodes init+segment with the ffprobe CLI and returns its
// frames; ffprobe failing to decode fails the test.
func probeSegment(t *testing.T, init, seg []byte) probed {
	t.Helper()
	f := filepath.Join(t.TempDir(), "seg.mp4")
	if err := os.WriteFile(f, append(append([]byte(nil), init...), seg...), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ffprobe", "-v", "error", "-show_frames", "-show_entries",
		"frame=media_type,key_frame,pts_time", "-of", "json", f)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe: %v: %s", err, stderr.String())
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// mediaDuration is the duration of path's video stream, else (no video,
// or a cover picture without one) its audio stream's, else the file's.
func mediaDuration(t *testing.T, path string) float64 {
	t.Helper()
	for _, args := range [][]string{{"-select_streams", "v:0", "-show_entries", "stream=duration"},
		{"-select_streams", "a:0", "-show_entries", "stream=duration"}, {"-show_entries", "format=duration"}} {
		out, err := exec.Command("ffprobe", append(append([]string{"-v", "error"}, args...), "-of", "csv=p=0", path)...).Output()
		if err != nil {
			t.Fatalf("ffprobe: %v", err)
		}
		if d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil {
			return d
		}
	}
	t.Fatalf("ffprobe: no duration for %s", path)
	return 0
}

// encodeAll runs one pipeline from segment k to the end.
func encodeAll(t *testing.T, path string, tl *Timeline, r Rendition, seg int64, k int) map[int][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := newPipeline(f, tl, r, seg, k)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	out := map[int][]byte{}
	for p.next < tl.Segments() {
		i, b, err := p.nextSegment()
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		out[i] = b
	}
	return out
}

func scanFile(t *testing.T, path string, seg int64) *Timeline {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl, err := scan(f, seg)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func initFor(t *testing.T, tl *Timeline, r Rendition, seg int64) []byte {
	e, err := newEncoders(tl, r, seg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.free()
	b, err := e.initSegment()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSegments probes every segment: it starts with a keyframe at the
// timeline's start, decodes, and the durations add up to the source's.
func checkSegments(t *testing.T, path string, tl *Timeline, init []byte, segs map[int][]byte) {
	t.Helper()
	var total int64
	for k := 0; k < tl.Segments(); k++ {
		p := probeSegment(t, init, segs[k])
		var first *float64
		for _, fr := range p.Frames {
			if fr.MediaType != "video" {
				continue
			}
			pt, _ := strconv.ParseFloat(fr.PtsTime, 64)
			if first == nil {
				if fr.KeyFrame != 1 {
					t.Errorf("segment %d starts with a non-key frame", k)
				}
				first = &pt
			}
		}
		if first == nil {
			t.Fatalf("segment %d: no video frames", k)
		}
		// For a remux of a B-frame source, presentation times come through
		// negative composition offsets (trun v1), which FFmpeg 5.1's mov
		// demuxer reads shifted by its dts_shift (up to the B-frame delay).
		slack := 1e-3
		if tl.remux != nil && tl.Starts[0] == tl.remux.starts[0] && len(tl.Starts) == len(tl.remux.starts) && &tl.Starts[0] == &tl.remux.starts[0] {
			slack += float64(tl.remux.dtsShift) / clock
		}
		if want := float64(tl.Starts[k]) / clock; math.Abs(*first-want) > slack {
			t.Errorf("segment %d starts at %.4f, timeline says %.4f", k, *first, want)
		}
		total += tl.SegmentEnd(k) - tl.Starts[k]
	}
	d := mediaDuration(t, path)
	frame := float64(tl.Frames[1]-tl.Frames[0]) / clock
	if got := float64(total) / clock; math.Abs(got-d) > frame+1e-3 {
		t.Errorf("segments add up to %.4f s, source is %.4f s", got, d)
	}
}

func TestPipeline2397(t *testing.T) {
	path := film2397(t)
	seg := int64(2 * clock)
	tl := scanFile(t, path, seg)
	if tl.Segments() != 5 || !tl.HasAudio {
		t.Fatalf("timeline: %d segments, audio %v; want 5 with audio", tl.Segments(), tl.HasAudio)
	}
	r := Renditions(tl)[len(Renditions(tl))-1]
	init := initFor(t, tl, r, seg)
	all := encodeAll(t, path, tl, r, seg, 0)
	checkSegments(t, path, tl, init, all)
	// A run started by a seek makes the same boundaries and timestamps.
	from3 := encodeAll(t, path, tl, r, seg, 3)
	for k := 3; k < tl.Segments(); k++ {
		a, b := probeSegment(t, init, all[k]), probeSegment(t, init, from3[k])
		if fmt.Sprint(times(a)) != fmt.Sprint(times(b)) {
			t.Errorf("segment %d: sequential %v\nseek-started %v", k, times(a), times(b))
		}
	}
}

func times(p probed) []string {
	var out []string
	for _, f := range p.Frames {
		out = append(out, f.MediaType[:1]+f.PtsTime)
	}
	return out
}

func TestPipelineVFR(t *testing.T) {
	path := vfrClip(t)
	seg := int64(2 * clock)
	tl := scanFile(t, path, seg)
	r := Renditions(tl)[len(Renditions(tl))-1]
	init := initFor(t, tl, r, seg)
	all := encodeAll(t, path, tl, r, seg, 0)
	checkSegments(t, path, tl, init, all)
}

// TestRemuxRendition: an H.264 + AAC source is offered as is; its
// segments cut at source keyframes, start with one, decode, and add up.
func TestRemuxRendition(t *testing.T) {
	path := clip(t, "bframes.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24000/1001", "-f", "lavfi", "-i",
		"sine=frequency=440:sample_rate=44100", "-t", "9.3", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2")
	seg := int64(2 * clock)
	tl := scanFile(t, path, seg)
	rs := Renditions(tl)
	if !rs[0].Remux || rs[0].Name != "src" {
		t.Fatalf("renditions %+v: want the remux rendition first", rs)
	}
	v := tl.view(rs[0])
	for _, s := range v.Starts {
		i := sort.Search(len(tl.Frames), func(i int) bool { return tl.Frames[i] >= s })
		if !tl.Keyframe[i] {
			t.Fatalf("remux cut at %d is not a source keyframe", s)
		}
	}
	init, err := remuxInit(tl.remux)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := newRemuxer(f, v, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	segs := map[int][]byte{}
	for m.nextIndex() < v.Segments() {
		k, b, err := m.nextSegment()
		if err != nil {
			t.Fatalf("segment %d: %v", k, err)
		}
		segs[k] = b
	}
	checkSegments(t, path, v, init, segs)
	// A remux started by a seek cuts and stamps the same.
	m2, err := newRemuxer(f, v, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.close()
	for m2.nextIndex() < v.Segments() {
		k, b, err := m2.nextSegment()
		if err != nil {
			t.Fatalf("seek-started segment %d: %v", k, err)
		}
		if a, b := times(probeSegment(t, init, segs[k])), times(probeSegment(t, init, b)); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("remux segment %d: sequential %v\nseek-started %v", k, a, b)
		}
	}
	// Not browser-safe: HEVC, 10-bit H.264 and rotated video are never remuxed.
	for _, p := range []string{vfrClip(t), testmedia.Generate(t, testmedia.H264TenBit), testmedia.Generate(t, testmedia.Rotated)} {
		if tl := scanFile(t, p, seg); Renditions(tl)[0].Remux {
			t.Errorf("%s offered as a remux rendition", filepath.Base(p))
		}
	}
}
